// Every operation the dashboard sends; the schema test validates each against apps/server/schema.graphql.
export * from './auth';
export * from './teams';
export * from './tokens';
