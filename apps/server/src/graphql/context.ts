import type { Services } from '../services/index.ts';
import type { RequestMeta } from '../services/types.ts';
import type { Loaders } from './loaders.ts';

/** Built once per HTTP request (or once per WebSocket subscription) in http/request-context.ts. */
export interface Context extends RequestMeta {
  services: Services;
  /** Batches per-row reads of one operation (graphql/loaders.ts). */
  loaders: Loaders;
  requestId: string;
  /** Sets the session cookie on the HTTP response; a no-op over WebSocket. */
  setSessionCookie(token: string, expiresAt: Date): void;
  /** Clears the session cookie on the HTTP response; a no-op over WebSocket. */
  clearSessionCookie(): void;
  /**
   * WebSocket operations only: a subscription registers here how to re-check, with a freshly identified viewer,
   * that it may still stream (http/stream-guard.ts runs it on access changes and periodically).
   */
  streamAccess?: StreamAccess;
}

/** Throws (NOT_FOUND, FORBIDDEN, UNAUTHENTICATED…) when the viewer in `ctx` may no longer see the stream. */
export type StreamCheck = (ctx: Context) => Promise<unknown>;

export interface StreamAccess {
  recheckWith(check: StreamCheck): void;
}
