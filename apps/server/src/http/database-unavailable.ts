import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { isDatabaseUnavailable } from '@dapple/db';

/**
 * While Postgres is down (restarting, failing over, a network cut) the hub stays up and answers every request that
 * needs it with HTTP 503, `Retry-After` and the code DATABASE_UNAVAILABLE — GraphQL and the trainer API alike — so
 * callers know to wait and retry, and /healthz says `db: unreachable`. Nothing was stored by such a request.
 */
export const DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE';
export const DATABASE_RETRY_AFTER_SECONDS = 5;
export const DATABASE_UNAVAILABLE_MESSAGE =
  'The database is unreachable right now, so nothing was read or changed; try again shortly';

export { isDatabaseUnavailable };

/** Thrown while building a GraphQL context (the session lookup): Apollo answers it with its `http` status. */
export function databaseUnavailableContextError(cause: unknown): GraphQLError {
  return new GraphQLError(DATABASE_UNAVAILABLE_MESSAGE, {
    originalError: cause instanceof Error ? cause : undefined,
    extensions: {
      code: DATABASE_UNAVAILABLE,
      retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
      http: { status: 503, headers: new HeaderMap([['retry-after', String(DATABASE_RETRY_AFTER_SECONDS)]]) },
    },
  });
}

/** A resolver's database failure was formatted as DATABASE_UNAVAILABLE (format-error.ts): answer 503 for it. */
export const databaseUnavailableStatusPlugin: ApolloServerPlugin = {
  requestDidStart: async () => ({
    willSendResponse: async ({ response }) => {
      if (response.body.kind !== 'single') return;
      const errors = response.body.singleResult.errors ?? [];
      if (!errors.some((e) => e.extensions?.['code'] === DATABASE_UNAVAILABLE)) return;
      response.http.status = 503;
      response.http.headers.set('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
    },
  }),
};
