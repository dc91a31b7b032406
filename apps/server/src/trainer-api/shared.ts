import type { TrainerErrorBody } from '@dapple/contracts/trainer-protocol';
import type { TrainerApiFailure } from '../services/runs/trainer.ts';

// What the express routes (router.ts) and the binary metrics fast path (metrics-fast-path.ts) agree on.

/** Request bodies larger than this are refused with 413 (a full 1000-point JSON batch is ~50 KB). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** The run token from `Authorization: Bearer <token>`. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/** The error body a trainer gets for a refused request. */
export function failureBody(err: TrainerApiFailure): TrainerErrorBody {
  return { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
}
