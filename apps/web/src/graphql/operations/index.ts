// Every operation the dashboard sends; the schema test validates each against apps/server/schema.graphql.
export * from './auth';
export * from './datasets';
export * from './models';
export * from './runs';
export * from './sampling';
export * from './teams';
export * from './tokens';
export * from './uploads';
export * from './run-detail';
export * from './runs-live';
