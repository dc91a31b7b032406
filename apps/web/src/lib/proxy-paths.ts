/**
 * Paths src/proxy.ts forwards to the API. `/objects/*` is also the API's, but is streamed by the Route
 * Handler in app/objects/[...path] instead, because the proxy would buffer and cut large uploads.
 */
const API_PATHS = ['/graphql', '/healthz'];

export function isApiPath(pathname: string): boolean {
  return API_PATHS.includes(pathname);
}

/** Set by the proxy on page requests: the path and query the visitor asked for. */
export const REQUEST_PATH_HEADER = 'x-dapple-path';
