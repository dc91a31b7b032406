import { UsageError } from '../errors.ts';
import { request, type Connection } from '../graphql.ts';

/** The team of --team <slug>, or the caller's only team. */
export async function teamId(conn: Connection, slug: string | undefined): Promise<string> {
  if (slug) {
    const { team } = await request<{ team: { id: string } }>(
      conn,
      `query Team($slug: String!) { team(slug: $slug) { id } }`,
      { slug },
    );
    return team.id;
  }
  const { me } = await request<{ me: { teams: { id: string; slug: string }[] } | null }>(
    conn,
    `{ me { teams { id slug } } }`,
  );
  const teams = me?.teams ?? [];
  if (teams.length === 1) return teams[0]!.id;
  throw new UsageError(
    teams.length === 0 ? 'you are in no team yet' : `pick a team with --team (${teams.map((t) => t.slug).join(', ')})`,
  );
}
