export * from './schema/index.ts';
export { createDb, type Db, type DbHandle, type CreateDbOptions, type Schema } from './client.ts';
export { migrate, migrationsFolder } from './migrate.ts';
export * from './metrics/index.ts';
export { sanitizeText, sanitizeJson, unstorableTextProblem } from './text.ts';
export { isAdminShutdown, isDatabaseUnavailable } from './pg-errors.ts';
