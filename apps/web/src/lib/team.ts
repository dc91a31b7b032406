import { redirect } from 'next/navigation';
import { cache } from 'react';
import { TeamQuery } from '../graphql/operations/teams';
import type { ResultOf } from '../graphql/tada';
import { ApiRequestError, serverRequest } from './server-graphql';

export type TeamDetails = NonNullable<ResultOf<typeof TeamQuery>['team']>;

export type TeamLoad =
  { kind: 'ok'; team: TeamDetails } | { kind: 'not-found' } | { kind: 'forbidden'; message: string };

/** The team of a `/t/[slug]` page with its members; memoised per request (layout and page share it). */
export const loadTeam = cache(async (slug: string): Promise<TeamLoad> => {
  const result = await serverRequest(TeamQuery, { slug });
  if (result.ok) return { kind: 'ok', team: result.data.team };
  const error = result.errors[0];
  if (error?.code === 'NOT_FOUND') return { kind: 'not-found' };
  if (error?.code === 'FORBIDDEN') return { kind: 'forbidden', message: error.message };
  // Signed out: Next renders this layout alongside the app layout that redirects to sign-in, so the same answer
  // here is a redirect too, not an error (which Next would log with a stack).
  if (error?.code === 'UNAUTHENTICATED') redirect(`/sign-in?next=${encodeURIComponent(`/t/${slug}`)}`);
  throw new ApiRequestError(`load team "${slug}"`, result.errors);
});
