export { freePort } from './ports.ts';
export {
  createTestDatabase,
  useTestDatabase,
  TEMPLATE_DATABASE,
  type TestDatabase,
  type TestPostgres,
} from './database.ts';
export {
  gql,
  gqlClient,
  errorCode,
  CookieJar,
  type GqlClient,
  type GqlError,
  type GqlOptions,
  type GqlResponse,
} from './gql.ts';
