import { NextResponse, type NextRequest } from 'next/server';
import { webEnv } from './env';

export function proxy(request: NextRequest) {
  const target = new URL(request.nextUrl.pathname + request.nextUrl.search, webEnv().DAPPLE_API_URL);
  return NextResponse.rewrite(target);
}

export const config = { matcher: ['/graphql', '/healthz', '/objects/:path*'] };
