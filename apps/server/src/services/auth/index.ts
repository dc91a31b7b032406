// The auth domain: users and their sessions (sign up, sign in with a rate limit, sign out), API tokens, and
// the helpers every domain uses to name the caller and to make and hash secrets.
import type { ServiceDeps } from '../types.ts';
import { AccessEvents } from './access-events.ts';
import { ApiTokenService } from './api-tokens.ts';
import { FailureRateLimiter } from './rate-limiter.ts';
import { UserService, type SignUpInvites, type SignUpMode } from './users.ts';

export { ApiTokenService } from './api-tokens.ts';
export { AccessEvents, ACCESS_CHANNEL, type AccessChange } from './access-events.ts';
export {
  UserService,
  PASSWORD_MAX,
  PASSWORD_MIN,
  SIGN_UP_MODES,
  signUpClosed,
  type JoinedTeam,
  type NewSession,
  type SessionLookup,
  type SignUpInvites,
  type SignUpMode,
  type SignUpPolicy,
} from './users.ts';
export { requireViewer } from './viewer.ts';
export { randomSecret, sha256Hex } from './secrets.ts';

export interface AuthOptions {
  /** Who may create an account: `invite` (default: the first account, then invitees) or `open` (env DAPPLE_SIGNUP). */
  signUp?: SignUpMode;
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
export function createAuthServices(deps: ServiceDeps, opts: AuthOptions, invites: () => SignUpInvites) {
  const accessEvents = new AccessEvents(deps);
  return {
    accessEvents,
    users: new UserService(deps, accessEvents, {
      sessionTtlMs: opts.sessionTtlMs ?? 30 * 86_400_000,
      sessionRefreshMs: 86_400_000,
      signUpMode: opts.signUp ?? 'invite',
      invites,
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
