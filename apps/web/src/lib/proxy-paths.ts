/** Paths served by the API, reached through the dashboard's origin. */
const API_PATHS = ['/graphql', '/healthz'];
const API_PREFIXES = ['/objects/'];

export function isApiPath(pathname: string): boolean {
  return API_PATHS.includes(pathname) || API_PREFIXES.some((prefix) => pathname.startsWith(prefix));
}

/** Set by the proxy on page requests: the path and query the visitor asked for. */
export const REQUEST_PATH_HEADER = 'x-dapple-path';
