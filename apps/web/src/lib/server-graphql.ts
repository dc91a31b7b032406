import { cookies, headers } from 'next/headers';
import { notFound, redirect } from 'next/navigation';
import { cache } from 'react';
import { webEnv } from '../env';
import { MeQuery } from '../graphql/operations/auth';
import type { ResultOf } from '../graphql/tada';
import { executeGraphQL, type ApiResult, type Operation, type VariablesArg } from './graphql';

const SESSION_COOKIE = 'dapple_session';

/**
 * Runs an operation from a Server Component straight against the API (not through the proxy),
 * forwarding the browser's session cookie (and only that) so the API sees the same user, and the
 * browser's address and user agent for its logs.
 */
export async function serverRequest<TData, TVariables>(
  document: Operation<TData, TVariables>,
  ...[variables]: VariablesArg<TVariables>
): Promise<ApiResult<TData>> {
  const [jar, incoming] = await Promise.all([cookies(), headers()]);
  const forwarded: Record<string, string> = {};
  const session = jar.get(SESSION_COOKIE);
  if (session) forwarded.cookie = `${SESSION_COOKIE}=${session.value}`;
  for (const name of ['x-forwarded-for', 'user-agent']) {
    const value = incoming.get(name);
    if (value) forwarded[name] = value;
  }
  return executeGraphQL(`${webEnv().DAPPLE_API_URL}/graphql`, document, variables, { headers: forwarded });
}

export type Me = NonNullable<ResultOf<typeof MeQuery>['me']>;

/**
 * The signed-in user (with their teams), or null. Throws when the API fails for another reason.
 * Memoised per request: the layout and the page both ask.
 */
export const loadMe = cache(async (): Promise<Me | null> => {
  const result = await serverRequest(MeQuery);
  if (result.ok) return result.data.me;
  if (result.errors.some((e) => e.code === 'UNAUTHENTICATED')) return null;
  throw new ApiRequestError('load the signed-in user', result.errors);
});

/** The signed-in user; redirects to sign-in (coming back to `returnTo`) when there is none. */
export async function requireMe(returnTo?: string): Promise<Me> {
  const me = await loadMe();
  if (!me) redirect(returnTo ? `/sign-in?next=${encodeURIComponent(returnTo)}` : '/sign-in');
  return me;
}

/** Unwraps a result in a Server Component: the error boundary shows what failed. */
export function unwrap<TData>(result: ApiResult<TData>, what: string): TData {
  if (result.ok) return result.data;
  // Signed out (or the session ended meanwhile): to sign-in, as the app layout does, rather than an error page.
  if (result.errors.some((e) => e.code === 'UNAUTHENTICATED')) redirect('/sign-in');
  throw new ApiRequestError(what, result.errors);
}

/**
 * unwrap for a page about one thing (a run, a model, a dataset): another team's (FORBIDDEN), a malformed id or a
 * deleted one is "not here" for the page, which answers 404.
 */
export function unwrapFound<TData>(result: ApiResult<TData>, what: string): TData {
  if (!result.ok && result.errors.some((e) => ['NOT_FOUND', 'BAD_USER_INPUT', 'FORBIDDEN'].includes(e.code)))
    notFound();
  return unwrap(result, what);
}

export class ApiRequestError extends Error {
  constructor(
    what: string,
    readonly errors: { code: string; message: string }[],
  ) {
    super(`Could not ${what}: ${errors.map((e) => `${e.message} (${e.code})`).join('; ')}`);
    this.name = 'ApiRequestError';
  }
  get code(): string | undefined {
    return this.errors[0]?.code;
  }
}
