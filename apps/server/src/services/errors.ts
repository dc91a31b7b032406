/**
 * The one error services throw for an expected failure: bad input, not signed in, not allowed, not found, a
 * conflict with the current state, too many attempts. It knows nothing of GraphQL or HTTP; each API layer
 * translates it once (graphql/format-error.ts: `extensions.code` and `extensions.field`; trainer-api/shared.ts:
 * an HTTP status and `{ error: { code, message, field } }`). Anything else a service throws is a bug: logged,
 * and masked as an internal error.
 */
export const SERVICE_ERROR_CODES = [
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
] as const;

export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];

export interface ServiceErrorDetails {
  /** The input field at fault, as the caller named it (e.g. `email`, `config.model.resolution`). */
  field?: string;
  /** RATE_LIMITED: seconds until trying again can succeed. */
  retryAfterSeconds?: number;
}

export class ServiceError extends Error {
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ServiceErrorCode,
    message: string,
    details: ServiceErrorDetails = {},
  ) {
    super(message);
    this.name = 'ServiceError';
    this.field = details.field;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** True for a ServiceError (of `code`, when given). */
export function isServiceError(err: unknown, code?: ServiceErrorCode): err is ServiceError {
  return err instanceof ServiceError && (code === undefined || err.code === code);
}

/** Invalid input; `field` names the offending input field (e.g. `email`). */
export const badInput = (field: string, message: string) => new ServiceError('BAD_USER_INPUT', message, { field });
export const unauthenticated = (message = 'Sign in required') => new ServiceError('UNAUTHENTICATED', message);
export const forbidden = (message = 'You do not have access to this resource') =>
  new ServiceError('FORBIDDEN', message);
export const notFound = (what: string) => new ServiceError('NOT_FOUND', `${what} not found`);
export const conflict = (message: string, field?: string) =>
  new ServiceError('CONFLICT', message, field ? { field } : {});
export const rateLimited = (retryAfterSeconds: number) =>
  new ServiceError('RATE_LIMITED', `Too many failed attempts; try again in ${retryAfterSeconds} s`, {
    retryAfterSeconds,
  });

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
