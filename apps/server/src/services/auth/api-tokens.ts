import { and, desc, eq, gt, isNull, or } from 'drizzle-orm';
import { API_TOKEN_SCOPES, apiTokens, users, type ApiToken } from '@dapple/db';
import { z } from 'zod';
import type { AccessEvents } from './access-events.ts';
import { looksLikeApiToken, newApiTokenSecret, sha256Hex } from './secrets.ts';
import { forbidden, notFound } from '../errors.ts';
import type { RequestMeta, ServiceDeps, Viewer } from '../types.ts';
import { requireViewer } from './viewer.ts';
import { parseInput } from '../validation.ts';

const createInput = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  expiresInDays: z.number().int().min(1, 'must be at least 1').max(3650, 'must be at most 3650').nullish(),
  scope: z.enum(API_TOKEN_SCOPES, { message: 'must be READ or WRITE' }).nullish(),
});

/** Only touch `last_used_at` this often per token, so every API call is not also a write. */
const LAST_USED_RESOLUTION_MS = 60_000;

export class ApiTokenService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly access: AccessEvents,
  ) {}

  /** Creates a token for the caller. The secret is returned here once and never stored. */
  async create(meta: RequestMeta, input: unknown): Promise<{ apiToken: ApiToken; secret: string }> {
    const viewer = requireViewer(meta);
    // A token minting tokens would outlive its own revocation (a leaked token could keep itself alive).
    if (viewer.kind === 'apiToken')
      throw forbidden('API tokens cannot create API tokens: sign in (dashboard or session) to create one');
    const { name, expiresInDays, scope } = parseInput(createInput, input);
    const { secret, prefix, hash } = newApiTokenSecret();
    const expiresAt = expiresInDays ? new Date(this.deps.now().getTime() + expiresInDays * 86_400_000) : null;
    const [apiToken] = await this.deps.db
      .insert(apiTokens)
      .values({ userId: viewer.user.id, name, prefix, tokenHash: hash, expiresAt, scope: scope ?? 'write' })
      .returning();
    if (!apiToken) throw new Error('insert into api_tokens returned no row');
    return { apiToken, secret };
  }

  /** Revokes one of the caller's tokens; takes effect on the next request (no caching). */
  async revoke(meta: RequestMeta, id: string): Promise<ApiToken> {
    const viewer = requireViewer(meta);
    if (!z.uuid().safeParse(id).success) throw notFound('API token');
    const [existing] = await this.deps.db
      .select()
      .from(apiTokens)
      .where(and(eq(apiTokens.id, id), eq(apiTokens.userId, viewer.user.id)));
    if (!existing) throw notFound('API token');
    if (existing.revokedAt) return existing;
    const [revoked] = await this.deps.db
      .update(apiTokens)
      .set({ revokedAt: this.deps.now() })
      .where(eq(apiTokens.id, id))
      .returning();
    await this.access.publish({ userIds: [viewer.user.id], reason: 'API token revoked' });
    return revoked ?? existing;
  }

  listForUser(userId: string): Promise<ApiToken[]> {
    return this.deps.db.select().from(apiTokens).where(eq(apiTokens.userId, userId)).orderBy(desc(apiTokens.createdAt));
  }

  /** Resolves a `dpl_...` bearer secret to its user; revoked, expired or unknown tokens give null. */
  async authenticate(secret: string): Promise<Extract<Viewer, { kind: 'apiToken' }> | null> {
    if (!looksLikeApiToken(secret)) return null;
    const now = this.deps.now();
    const [row] = await this.deps.db
      .select({ apiToken: apiTokens, user: users })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .where(
        and(
          eq(apiTokens.tokenHash, sha256Hex(secret)),
          isNull(apiTokens.revokedAt),
          or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)),
        ),
      );
    if (!row) return null;
    if (!row.apiToken.lastUsedAt || now.getTime() - row.apiToken.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.deps.db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.apiToken.id));
      row.apiToken.lastUsedAt = now;
    }
    return { kind: 'apiToken', user: row.user, apiToken: row.apiToken };
  }
}
