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
}
