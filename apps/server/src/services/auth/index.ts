// The auth domain: users and their sessions (sign up, sign in with a rate limit, sign out), API tokens, and
// the helpers every domain uses to name the caller and to make and hash secrets.
import type { ServiceDeps } from '../types.ts';
import { AccessEvents } from './access-events.ts';
import { ApiTokenService } from './api-tokens.ts';
import { FailureRateLimiter } from './rate-limiter.ts';
import { UserService } from './users.ts';

export { ApiTokenService } from './api-tokens.ts';
export { AccessEvents, ACCESS_CHANNEL, type AccessChange } from './access-events.ts';
export { UserService, PASSWORD_MAX, PASSWORD_MIN, type NewSession, type SessionLookup } from './users.ts';
export { requireViewer } from './viewer.ts';
export { randomSecret, sha256Hex } from './secrets.ts';

export interface AuthOptions {
  /** Session lifetime (sliding); default 30 days. */
  sessionTtlMs?: number;
  /** Failed sign-ins per account (email, from any address) within `signInWindowMs` before RATE_LIMITED; default 10. */
  signInMaxFailures?: number;
  /** Failed sign-ins per client address (to any accounts) within `signInWindowMs` before RATE_LIMITED; default 30. */
  signInMaxFailuresPerIp?: number;
  /** Default 15 minutes. */
  signInWindowMs?: number;
}

/** The auth domain's services, wired together (createServices spreads them in). */
export function createAuthServices(deps: ServiceDeps, opts: AuthOptions = {}) {
  const accessEvents = new AccessEvents(deps);
  return {
    accessEvents,
    users: new UserService(deps, accessEvents, {
      sessionTtlMs: opts.sessionTtlMs ?? 30 * 86_400_000,
      sessionRefreshMs: 86_400_000,
      signInLimiter: new FailureRateLimiter({
        maxFailures: opts.signInMaxFailures ?? 10,
        windowMs: opts.signInWindowMs ?? 15 * 60_000,
        now: () => deps.now().getTime(),
      }),
      signInIpLimiter: new FailureRateLimiter({
        maxFailures: opts.signInMaxFailuresPerIp ?? 30,
        windowMs: opts.signInWindowMs ?? 15 * 60_000,
        now: () => deps.now().getTime(),
      }),
    }),
    apiTokens: new ApiTokenService(deps, accessEvents),
  };
}
