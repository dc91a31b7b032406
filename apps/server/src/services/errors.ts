import { GraphQLError } from 'graphql';

/**
 * Codes a client may see in `extensions.code`. Anything thrown without one of these is an
 * unexpected failure and is masked as INTERNAL_SERVER_ERROR (see graphql/format-error.ts).
 */
export const EXPECTED_ERROR_CODES = [
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  // Produced by Apollo / graphql-js / our HTTP layer for malformed requests.
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'QUERY_TOO_DEEP',
  'QUERY_TOO_COMPLEX',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
] as const;

export type ErrorCode = (typeof EXPECTED_ERROR_CODES)[number];

export function appError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

/** Invalid input; `field` names the offending input field (e.g. `email`). */
export const badInput = (field: string, message: string) => appError('BAD_USER_INPUT', message, { field });
export const unauthenticated = (message = 'Sign in required') => appError('UNAUTHENTICATED', message);
export const forbidden = (message = 'You do not have access to this resource') => appError('FORBIDDEN', message);
export const notFound = (what: string) => appError('NOT_FOUND', `${what} not found`);
export const conflict = (message: string, field?: string) => appError('CONFLICT', message, field ? { field } : {});
export const rateLimited = (retryAfterSeconds: number) =>
  appError('RATE_LIMITED', `Too many failed attempts; try again in ${retryAfterSeconds} s`, { retryAfterSeconds });

/** True for Postgres unique-violation errors, also when wrapped by drizzle (which puts the pg error in `cause`). */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  let e: unknown = err;
  for (let i = 0; i < 3 && e && typeof e === 'object'; i++) {
    const pgErr = e as { code?: string; constraint?: string; cause?: unknown };
    if (pgErr.code === '23505') return constraint === undefined || pgErr.constraint === constraint;
    e = pgErr.cause;
  }
  return false;
}
