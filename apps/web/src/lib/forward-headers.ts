// Headers that describe one hop of a connection, not the request itself (RFC 9110 §7.6.1), plus those
// fetch sets on its own. They are not copied when a request or response is passed on.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
]);

/** The browser's request headers for the API, plus where the request originally came to. */
export function forwardRequestHeaders(incoming: Headers, url: URL): Headers {
  const headers = new Headers();
  incoming.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && !name.startsWith('x-middleware-') && !name.startsWith('x-nextjs-'))
      headers.set(name, value);
  });
  headers.set('x-forwarded-host', incoming.get('host') ?? url.host);
  headers.set('x-forwarded-proto', url.protocol.replace(':', ''));
  return headers;
}

/** The API's response headers for the browser. fetch has already decoded any content-encoding. */
export function forwardResponseHeaders(upstream: Headers): Headers {
  const headers = new Headers();
  upstream.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== 'content-encoding' && name !== 'set-cookie') headers.set(name, value);
  });
  for (const cookie of upstream.getSetCookie()) headers.append('set-cookie', cookie);
  return headers;
}
