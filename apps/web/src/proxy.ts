import { NextResponse, type NextRequest } from 'next/server';
import { isDevServer, webEnv } from './env';
import { isApiPath, REQUEST_PATH_HEADER } from './lib/proxy-paths';
import { contentSecurityPolicy, newNonce, SECURITY_HEADERS } from './lib/security-headers';

/**
 * Runs before every request (Next 16 "proxy", formerly middleware), at request time, so the API origin
 * comes from DAPPLE_API_URL when `next start` runs, not when the app was built (rewrites in
 * next.config.ts are frozen into the build). Two jobs:
 * - /graphql and /healthz are forwarded to the API: the browser only ever talks to this origin, so the
 *   httpOnly session cookie is first-party. WebSocket upgrades on /graphql (subscriptions) are forwarded too.
 *   (/objects/* goes to the API through app/objects/[...path]/route.ts, which streams large bodies.)
 * - Pages get the requested path in a header, so a signed-out visitor can be sent back after sign-in, and the
 *   security headers (lib/security-headers.ts): a Content-Security-Policy with a fresh nonce — also on the
 *   request, where Next reads it to put the nonce on the scripts it renders — and the referrer, sniffing,
 *   framing and permissions policies.
 */
export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  if (isApiPath(pathname)) {
    return NextResponse.rewrite(new URL(pathname + search, webEnv().DAPPLE_API_URL));
  }
  const nonce = newNonce();
  const csp = contentSecurityPolicy(nonce, { dev: isDevServer() });
  const headers = new Headers(request.headers);
  headers.set(REQUEST_PATH_HEADER, pathname + search);
  headers.set('x-nonce', nonce);
  headers.set('Content-Security-Policy', csp);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set('Content-Security-Policy', csp);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
  return response;
}

export const config = {
  // Everything except the build's static files and /objects/* (streamed by its Route Handler: running
  // the proxy would make Next buffer the body and cut it at 10 MB).
  matcher: ['/((?!_next/static|_next/image|favicon.ico|objects/).*)'],
};
