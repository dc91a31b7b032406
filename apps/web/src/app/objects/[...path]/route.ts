import { webEnv } from '../../../env';
import { forwardRequestHeaders, forwardResponseHeaders } from '../../../lib/forward-headers';

// Object bytes (dataset uploads, thumbnails, sample grids, checkpoints) are streamed to and from the API
// here rather than in src/proxy.ts: Next buffers a request body for its proxy/middleware and cuts it at
// 10 MB, while a Route Handler passes the body through as a stream of any size.
export const dynamic = 'force-dynamic';

async function forward(request: Request): Promise<Response> {
  const incoming = new URL(request.url);
  const target = new URL(incoming.pathname + incoming.search, webEnv().DAPPLE_API_URL);
  const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== null;
  let upstream: Response;
  try {
    upstream = await fetch(target, {
      method: request.method,
      headers: forwardRequestHeaders(request.headers, incoming),
      body: hasBody ? request.body : undefined,
      // Streams the upload instead of buffering it (required by fetch for a stream body).
      ...(hasBody ? { duplex: 'half' } : {}),
      redirect: 'manual',
      signal: request.signal,
    });
  } catch {
    return Response.json({ error: 'The Dapple API could not be reached' }, { status: 502 });
  }
  return new Response(upstream.body, {
    status: upstream.status,
    statusText: upstream.statusText,
    headers: forwardResponseHeaders(upstream.headers),
  });
}

export const GET = forward;
export const HEAD = forward;
export const PUT = forward;
export const POST = forward;
export const DELETE = forward;
