import { and, eq, gt, lte, sql } from 'drizzle-orm';
import { sessions, users, type Team, type TeamRole, type User } from '@dapple/db';
import { z } from 'zod';
import type { AccessEvents } from './access-events.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';
import { FailureRateLimiter } from './rate-limiter.ts';
import { randomSecret, sha256Hex } from './secrets.ts';
import { conflict, forbidden, rateLimited, unauthenticated } from '../errors.ts';
import type { RequestMeta, ServiceDeps, Tx, Viewer } from '../types.ts';
import { parseInput } from '../validation.ts';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 256;

const email = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be a valid email address'));
const signUpInput = z.object({
  email,
  password: z
    .string()
    .min(PASSWORD_MIN, `must be at least ${PASSWORD_MIN} characters`)
    .max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`),
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  inviteToken: z.string().max(200, 'must be at most 200 characters').nullish(),
});
const signInInput = z.object({
  email: z.string().trim().toLowerCase().max(254, 'must be at most 254 characters'),
  password: z.string().max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`),
});

/**
 * Who may create an account (env DAPPLE_SIGNUP, docs/security.md "Sign-up"). `invite`: the first account of an empty
 * hub, then only holders of a team invite, for the address it was sent to. `open`: anyone; a taken email is refused
 * by name, which tells whoever asks that the address has an account here.
 */
export const SIGN_UP_MODES = ['invite', 'open'] as const;
export type SignUpMode = (typeof SIGN_UP_MODES)[number];

/** What the sign-up page needs to know before anyone types: whether it can take a sign-up without an invite. */
export interface SignUpPolicy {
  mode: SignUpMode;
  /** True in `open` mode, and in `invite` mode while the hub has no account yet (its first user signs up freely). */
  openWithoutInvite: boolean;
}

/** The team an invite made the new account a member of. */
export interface JoinedTeam {
  team: Team;
  role: TeamRole;
}

/** The teams domain's part in a sign-up with an invite (TeamService implements it; auth does not import teams). */
export interface SignUpInvites {
  /**
   * In one transaction: takes the pending, unexpired invite with `token` if it was sent to `email`, makes the account
   * with `createAccount` (undefined when the email is taken), and accepts the invite for it. Null, with nothing
   * written, when any step fails, whichever it was.
   */
  joinAtSignUp(
    token: string,
    email: string,
    createAccount: (tx: Tx) => Promise<User | undefined>,
  ): Promise<{ user: User; joined: JoinedTeam } | null>;
}

/**
 * The one answer of a sign-up the hub will not take: whatever the reason (no invite, an unknown, used or expired
 * invite, an address the invite was not sent to, an address that has an account), so it says nothing about which.
 */
export const signUpClosed = () =>
  forbidden(
    'Sign-up on this hub needs an invite: open the invite link a team admin gave you and use the email address it ' +
      'was sent to. Already have an account? Sign in.',
  );

/** Serialises "is this the hub's first account?" (pg_advisory_xact_lock key; any constant the hub uses only here). */
const BOOTSTRAP_LOCK_KEY = 0x0da991e5;

export interface UserServiceOptions {
  /** Who may sign up; default `invite`. */
  signUpMode: SignUpMode;
  /** The teams domain, for sign-ups with an invite (a function: it is built after the auth domain). */
  invites: () => SignUpInvites;
  /** Session lifetime; sliding: each use after `sessionRefreshMs` pushes expiry out again. */
  sessionTtlMs: number;
  sessionRefreshMs: number;
  /** Failed sign-ins per account (email), whatever the address: guessing one account's password. */
  signInLimiter: FailureRateLimiter;
  /** Failed sign-ins per client address, whatever the account: spraying one password across many accounts. */
  signInIpLimiter: FailureRateLimiter;
}

export interface NewSession {
  token: string;
  expiresAt: Date;
}

export interface SessionLookup {
  viewer: Extract<Viewer, { kind: 'session' }>;
  /** Set when the expiry was pushed out, so the cookie should be re-sent. */
  renewedUntil?: Date;
}

export class UserService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly access: AccessEvents,
    private readonly opts: UserServiceOptions,
  ) {}

  /**
   * Creates an account and signs it in. A hub without email cannot verify an address, so who may sign up is the
   * sign-up mode's question (docs/security.md "Sign-up" has the reasoning):
   * - with an invite token (either mode): the account is made for the address the invite was sent to and joins its
   *   team, in one transaction; any failure, a taken address included, gives the one `signUpClosed` answer.
   * - `invite` mode without a token: only the hub's first account (bootstrap); after that `signUpClosed`, decided
   *   before the email is looked at.
   * - `open` mode without a token: a taken email is refused by name (CONFLICT on `email`).
   * Refusals that depend on stored accounts count as failed sign-ins of the client address (`signInIpLimiter`,
   * shared with sign-in, so probing both doors gets no more tries), and the password is hashed before the
   * accounts are looked at, so a refusal takes as long as a success.
   */
  async signUp(
    input: unknown,
    meta: RequestMeta,
  ): Promise<{ user: User; session: NewSession; joined: JoinedTeam | null }> {
    const { email, password, name, inviteToken } = parseInput(signUpInput, input);
    const ipKey = meta.ip ?? '?';
    const retryAfter = this.opts.signInIpLimiter.retryAfterSeconds(ipKey);
    if (retryAfter > 0) throw rateLimited(retryAfter);
    if (inviteToken) {
      const passwordHash = await hashPassword(password);
      const created = await this.opts
        .invites()
        .joinAtSignUp(inviteToken, email, (tx) => this.insertUser(tx, { email, name, passwordHash }));
      if (!created) {
        this.opts.signInIpLimiter.recordFailure(ipKey);
        meta.log.info({ event: 'sign_up_refused' }, 'sign-up with an invite refused');
        throw signUpClosed();
      }
      return { ...created, session: await this.createSession(created.user, meta) };
    }
    if (this.opts.signUpMode === 'invite') {
      // Nothing here depends on the email: a closed hub answers every sign-up alike, and cheaply.
      if (await this.hasAccounts(this.deps.db)) throw signUpClosed();
      const passwordHash = await hashPassword(password);
      const user = await this.deps.db.transaction(async (tx) => {
        // Two first sign-ups at once: the second waits here, then finds the first's account.
        await tx.execute(sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK_KEY})`);
        if (await this.hasAccounts(tx)) return undefined;
        return this.insertUser(tx, { email, name, passwordHash });
      });
      if (!user) throw signUpClosed();
      meta.log.info({ event: 'sign_up_bootstrap' }, "the hub's first account signed up");
      return { user, session: await this.createSession(user, meta), joined: null };
    }
    const passwordHash = await hashPassword(password);
    const user = await this.insertUser(this.deps.db, { email, name, passwordHash });
    if (!user) {
      this.opts.signInIpLimiter.recordFailure(ipKey);
      meta.log.info({ event: 'sign_up_email_taken' }, 'sign-up refused: the email is taken');
      throw conflict('An account with this email already exists', 'email');
    }
    return { user, session: await this.createSession(user, meta), joined: null };
  }

  /** What the sign-up page shows before anyone types (see SignUpPolicy). */
  async signUpPolicy(): Promise<SignUpPolicy> {
    const mode = this.opts.signUpMode;
    return { mode, openWithoutInvite: mode === 'open' || !(await this.hasAccounts(this.deps.db)) };
  }

  private async hasAccounts(db: Tx | ServiceDeps['db']): Promise<boolean> {
    const [any] = await db.select({ id: users.id }).from(users).limit(1);
    return any !== undefined;
  }

  /** The new account, or undefined when the email is taken (any case): nothing is written then. */
  private async insertUser(
    db: Tx | ServiceDeps['db'],
    values: { email: string; name: string; passwordHash: string },
  ): Promise<User | undefined> {
    // ON CONFLICT DO NOTHING rather than catching the unique violation: inside a transaction that error would abort it.
    const [user] = await db.insert(users).values(values).onConflictDoNothing().returning();
    return user;
  }

  async signIn(input: unknown, meta: RequestMeta): Promise<{ user: User; session: NewSession }> {
    const { email, password } = parseInput(signInInput, input);
    const accountKey = email;
    const ipKey = meta.ip ?? '?';
    const retryAfter = Math.max(
      this.opts.signInLimiter.retryAfterSeconds(accountKey),
      this.opts.signInIpLimiter.retryAfterSeconds(ipKey),
    );
    if (retryAfter > 0) throw rateLimited(retryAfter);

    const user = await this.findByEmail(email);
    const ok = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
    if (!user || !ok) {
      this.opts.signInLimiter.recordFailure(accountKey);
      this.opts.signInIpLimiter.recordFailure(ipKey);
      meta.log.info({ event: 'sign_in_failed', email }, 'sign-in failed');
      throw unauthenticated('Wrong email or password');
    }
    this.opts.signInLimiter.reset(accountKey);
    return { user, session: await this.createSession(user, meta) };
  }

  async signOut(meta: RequestMeta): Promise<boolean> {
    if (meta.viewer?.kind !== 'session') return false;
    await this.deps.db.delete(sessions).where(eq(sessions.id, meta.viewer.session.id));
    await this.access.publish({ userIds: [meta.viewer.user.id], reason: 'signed out' });
    return true;
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const [user] = await this.deps.db
      .select()
      .from(users)
      .where(eq(sql`lower(${users.email})`, email.trim().toLowerCase()));
    return user;
  }

  async findById(id: string): Promise<User | undefined> {
    const [user] = await this.deps.db.select().from(users).where(eq(users.id, id));
    return user;
  }

  /** Resolves a session cookie value; expired or unknown sessions give null. */
  async lookupSession(token: string): Promise<SessionLookup | null> {
    const now = this.deps.now();
    const [row] = await this.deps.db
      .select({ session: sessions, user: users })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.tokenHash, sha256Hex(token)), gt(sessions.expiresAt, now)));
    if (!row) return null;
    const viewer = { kind: 'session' as const, user: row.user, session: row.session };
    const age = this.opts.sessionTtlMs - (row.session.expiresAt.getTime() - now.getTime());
    if (age < this.opts.sessionRefreshMs) return { viewer };
    const renewedUntil = new Date(now.getTime() + this.opts.sessionTtlMs);
    await this.deps.db.update(sessions).set({ expiresAt: renewedUntil }).where(eq(sessions.id, row.session.id));
    return { viewer: { ...viewer, session: { ...row.session, expiresAt: renewedUntil } }, renewedUntil };
  }

  private async createSession(user: User, meta: RequestMeta): Promise<NewSession> {
    const token = randomSecret();
    const now = this.deps.now();
    const expiresAt = new Date(now.getTime() + this.opts.sessionTtlMs);
    // Housekeeping where it is cheap: the user's own expired sessions go when they sign in again.
    await this.deps.db.delete(sessions).where(and(eq(sessions.userId, user.id), lte(sessions.expiresAt, now)));
    await this.deps.db.insert(sessions).values({
      userId: user.id,
      tokenHash: sha256Hex(token),
      expiresAt,
      userAgent: meta.userAgent?.slice(0, 512) ?? null,
      ip: meta.ip,
    });
    return { token, expiresAt };
  }
}
