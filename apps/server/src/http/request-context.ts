import type { IncomingHttpHeaders } from 'node:http';
import type { Request, Response } from 'express';
import { GraphQLError } from 'graphql';
import type { Context } from '../graphql/context.ts';
import { createLoaders } from '../graphql/loaders.ts';
import type { Logger } from '../logger.ts';
import type { Services } from '../services/index.ts';
import type { Viewer } from '../services/types.ts';
import { databaseUnavailableContextError, isDatabaseUnavailable } from './database-unavailable.ts';
import { clearedSessionCookie, readSessionCookie, sessionCookie } from './session-cookie.ts';

export interface ContextDeps {
  services: Services;
  /** Send cookies with `Secure` (the hub is served over https). */
  secureCookies: boolean;
}

interface ResolvedViewer {
  viewer: Viewer | null;
  /** The session's expiry moved (sliding sessions): re-send the cookie. */
  renewedUntil?: Date;
  /** A cookie was sent but matches no live session: clear it. */
  staleCookie?: boolean;
  sessionToken?: string;
}

function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  // A malformed Authorization header is a client bug: say so instead of treating the caller as anonymous.
  if (!match?.[1]) throw invalidCredentials('Authorization header must be "Bearer <token>"');
  return match[1];
}

/** Raised while building the context, before any resolver runs: answered with HTTP 401. */
function invalidCredentials(message: string) {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

/**
 * The one place a caller is identified: a Bearer API token wins over the session cookie. A token that
 * is unknown, expired or revoked is an UNAUTHENTICATED error (never silently anonymous).
 */
export async function resolveViewer(
  services: Services,
  headers: IncomingHttpHeaders,
  opts: { allowCookie: boolean; token?: string },
): Promise<ResolvedViewer> {
  const token = opts.token ?? bearerToken(headers);
  if (token) {
    const viewer = await services.apiTokens.authenticate(token);
    if (!viewer) throw invalidCredentials('API token is invalid, expired or revoked');
    return { viewer };
  }
  const cookie = opts.allowCookie ? readSessionCookie(headers) : undefined;
  if (!cookie) return { viewer: null };
  const found = await services.users.lookupSession(cookie);
  if (!found) return { viewer: null, staleCookie: true };
  return { viewer: found.viewer, renewedUntil: found.renewedUntil, sessionToken: cookie };
}

export async function httpContext(deps: ContextDeps, req: Request, res: Response): Promise<Context> {
  const resolved = await resolveViewer(deps.services, req.headers, { allowCookie: true }).catch((err: unknown) => {
    throw isDatabaseUnavailable(err) ? databaseUnavailableContextError(err) : err;
  });
  const setSessionCookie = (token: string, expiresAt: Date) =>
    res.append('Set-Cookie', sessionCookie(token, expiresAt, deps.secureCookies));
  const clearSessionCookie = () => res.append('Set-Cookie', clearedSessionCookie(deps.secureCookies));
  if (resolved.renewedUntil && resolved.sessionToken) setSessionCookie(resolved.sessionToken, resolved.renewedUntil);
  if (resolved.staleCookie) clearSessionCookie();
  return {
    services: deps.services,
    loaders: createLoaders(deps.services, resolved.viewer),
    viewer: resolved.viewer,
    ip: req.ip ?? null,
    userAgent: req.headers['user-agent'] ?? null,
    requestId: req.id,
    log: req.log.child(resolved.viewer ? { userId: resolved.viewer.user.id } : {}),
    setSessionCookie,
    clearSessionCookie,
  };
}

export function wsContext(
  services: Services,
  log: Logger,
  viewer: Viewer | null,
  meta: { ip: string | null; userAgent: string | null; requestId: string },
): Context {
  return {
    services,
    loaders: createLoaders(services, viewer),
    viewer,
    ...meta,
    log: log.child({ reqId: meta.requestId, ...(viewer ? { userId: viewer.user.id } : {}) }),
    setSessionCookie: () => {},
    clearSessionCookie: () => {},
  };
}
