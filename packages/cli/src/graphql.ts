import { CliError } from './errors.ts';

export interface Connection {
  url: string;
  token: string;
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string } }[];
}

const HINTS: Record<string, string> = {
  UNAUTHENTICATED: 'run `dapple login --url <hub> --token dpl_...` or set DAPPLE_TOKEN',
};

/** One GraphQL request with the API token as a Bearer token; GraphQL errors become CliErrors with their code. */
export async function request<T>(conn: Connection, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const endpoint = new URL('/graphql', conn.url).toString();
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${conn.token}`,
        'apollo-require-preflight': 'true',
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(
      `cannot reach the hub at ${conn.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      'NETWORK',
    );
  }
  const text = await res.text();
  let body: GraphQLResponse<T>;
  try {
    body = JSON.parse(text) as GraphQLResponse<T>;
  } catch {
    throw new CliError(
      `the hub at ${conn.url} answered HTTP ${res.status} without GraphQL JSON (is the URL right?)`,
      `HTTP_${res.status}`,
    );
  }
  const first = body.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? 'INTERNAL_SERVER_ERROR';
    const field = first.extensions?.field ? ` [${first.extensions.field}]` : '';
    const hint = HINTS[code] ? `; ${HINTS[code]}` : '';
    throw new CliError(`${first.message}${field} (${code})${hint}`, code);
  }
  if (!body.data) throw new CliError(`the hub answered HTTP ${res.status} with no data`, `HTTP_${res.status}`);
  return body.data;
}
