import type { TrainerErrorBody } from '@dapple/contracts/trainer-protocol';
import {
  DATABASE_RETRY_AFTER_SECONDS,
  DATABASE_UNAVAILABLE,
  DATABASE_UNAVAILABLE_MESSAGE,
  isDatabaseUnavailable,
} from '../http/database-unavailable.ts';
import type { ServiceError, ServiceErrorCode } from '../services/errors.ts';

// What the express routes (router.ts) and the binary metrics fast path (metrics-fast-path.ts) agree on.

/** Request bodies larger than this are refused with 413 (a full 1000-point JSON batch is ~50 KB). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** The run token from `Authorization: Bearer <token>`. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/** The HTTP status of each service refusal: the one place a ServiceError becomes an answer to a trainer. */
const STATUS: Record<ServiceErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
};

/** What a trainer gets for a refused request: the status and `{ error: { code, message, field? } }`. */
export function failureResponse(err: ServiceError): { status: number; body: TrainerErrorBody } {
  return {
    status: STATUS[err.code],
    body: { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } },
  };
}

/**
 * The answer to a request that failed because the database is unreachable: 503 with Retry-After, which trainers
 * retry with backoff (apps/trainer/src/hub.ts) until the outage is over; null for any other failure.
 */
export function unavailableResponse(
  err: unknown,
): { status: number; headers: Record<string, string>; body: TrainerErrorBody } | null {
  if (!isDatabaseUnavailable(err)) return null;
  return {
    status: 503,
    headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
    body: { error: { code: DATABASE_UNAVAILABLE, message: DATABASE_UNAVAILABLE_MESSAGE } },
  };
}
