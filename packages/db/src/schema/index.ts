export * from './users.ts';
export * from './auth.ts';
export * from './teams.ts';
export * from './datasets.ts';
export * from './runs.ts';
export * from './metrics.ts';
export * from './models.ts';
