/** A tiny GraphQL-over-HTTP client for tests: plain fetch, optional Bearer token, a cookie jar. */

export interface GqlError {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; field?: string; [key: string]: unknown };
}

export interface GqlResponse<T> {
  status: number;
  data: T | null | undefined;
  errors: GqlError[] | undefined;
  headers: Headers;
}

/** Keeps cookies from `Set-Cookie` like a browser would (names and values only; one host). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  /** The `Cookie` request header, or undefined when empty. */
  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expires = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('expires='));
      const expired = expires !== undefined && new Date(expires.slice('expires='.length)).getTime() <= Date.now();
      if (value === '' || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

export interface GqlOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Sent as `Cookie`, and updated from the response's `Set-Cookie`. */
  cookies?: CookieJar;
  /** A raw `Cookie` header (e.g. `dapple_session=...`), sent as is; ignored when `cookies` has any. */
  cookie?: string;
  headers?: Record<string, string>;
}

export async function gql<T = Record<string, any>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  opts: GqlOptions = {},
): Promise<GqlResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const cookie = opts.cookies?.header() ?? opts.cookie;
  if (cookie) headers.cookie = cookie;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  opts.cookies?.store(res.headers);
  const text = await res.text();
  let body: { data?: T | null; errors?: GqlError[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new Error(`Non-JSON response (${res.status}) from ${url}: ${text.slice(0, 200)}`);
  }
  return { status: res.status, data: body.data, errors: body.errors, headers: res.headers };
}

/** A client bound to one URL with its own cookie jar: what one browser (or one curl -c/-b) would be. */
export function gqlClient(url: string, opts: Omit<GqlOptions, 'cookies'> = {}) {
  const cookies = new CookieJar();
  return {
    cookies,
    request: <T = Record<string, any>>(query: string, variables?: Record<string, unknown>) =>
      gql<T>(url, query, variables, { ...opts, cookies }),
  };
}
export type GqlClient = ReturnType<typeof gqlClient>;

/** The first error's `extensions.code`, for terse assertions. */
export function errorCode(res: GqlResponse<unknown>): string | undefined {
  return res.errors?.[0]?.extensions?.code;
}
