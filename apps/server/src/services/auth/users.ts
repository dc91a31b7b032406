import { and, eq, gt, lte, sql } from 'drizzle-orm';
import { sessions, users, type User } from '@dapple/db';
import { z } from 'zod';
import type { AccessEvents } from './access-events.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';
import { FailureRateLimiter } from './rate-limiter.ts';
import { randomSecret, sha256Hex } from './secrets.ts';
import { conflict, isUniqueViolation, rateLimited, unauthenticated } from '../errors.ts';
import type { RequestMeta, ServiceDeps, Viewer } from '../types.ts';
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
});
const signInInput = z.object({
  email: z.string().trim().toLowerCase().max(254, 'must be at most 254 characters'),
  password: z.string().max(PASSWORD_MAX, `must be at most ${PASSWORD_MAX} characters`),
});

export interface UserServiceOptions {
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
   * A hub without email cannot verify an address, so a new account is signed in at once, and a taken email must
   * be refused (CONFLICT on `email`). What keeps that from being an enumeration oracle: each refusal counts as a
   * failed sign-in of the client address (`signInIpLimiter`, shared with sign-in, so probing sign-up and sign-in
   * together gets no more tries), and the password is hashed first either way, so the answer takes as long.
   */
  async signUp(input: unknown, meta: RequestMeta): Promise<{ user: User; session: NewSession }> {
    const { email, password, name } = parseInput(signUpInput, input);
    const ipKey = meta.ip ?? '?';
    const retryAfter = this.opts.signInIpLimiter.retryAfterSeconds(ipKey);
    if (retryAfter > 0) throw rateLimited(retryAfter);
    const passwordHash = await hashPassword(password);
    let user: User | undefined;
    try {
      [user] = await this.deps.db.insert(users).values({ email, name, passwordHash }).returning();
    } catch (err) {
      if (isUniqueViolation(err)) {
        this.opts.signInIpLimiter.recordFailure(ipKey);
        meta.log.info({ event: 'sign_up_email_taken' }, 'sign-up refused: the email is taken');
        throw conflict('An account with this email already exists', 'email');
      }
      throw err;
    }
    if (!user) throw new Error('insert into users returned no row');
    return { user, session: await this.createSession(user, meta) };
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
