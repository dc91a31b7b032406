import { parse, serialize } from 'cookie';
import type { IncomingHttpHeaders } from 'node:http';

export const SESSION_COOKIE = 'dapple_session';

export function readSessionCookie(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.cookie;
  if (!header) return undefined;
  return parse(header)[SESSION_COOKIE] || undefined;
}

/** httpOnly so scripts cannot read it; SameSite=Lax so other sites cannot send it on POSTs. */
export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  return serialize(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'lax', path: '/', secure, expires: expiresAt });
}

export function clearedSessionCookie(secure: boolean): string {
  return serialize(SESSION_COOKIE, '', { httpOnly: true, sameSite: 'lax', path: '/', secure, expires: new Date(0) });
}
