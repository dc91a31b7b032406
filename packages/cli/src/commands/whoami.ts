import type { CommandContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { table } from '../format.ts';
import { request } from '../graphql.ts';

export const WHOAMI = `query Whoami { me { id name email teams { slug name viewerRole } } }`;
export interface WhoamiResult {
  me: { id: string; name: string; email: string; teams: { slug: string; name: string; viewerRole: string }[] } | null;
}

export async function whoami(
  ctx: CommandContext,
  flags: { url?: string; token?: string; json?: boolean },
): Promise<void> {
  const conn = await ctx.connection(flags);
  const { me } = await request<WhoamiResult>(conn, WHOAMI);
  if (!me) throw new CliError('the hub does not recognise this token', 'UNAUTHENTICATED');
  if (flags.json) return ctx.io.out(JSON.stringify({ url: conn.url, ...me }));
  ctx.io.out(`${me.name} <${me.email}> on ${conn.url}`);
  if (me.teams.length)
    ctx.io.out(
      table(
        ['TEAM', 'NAME', 'ROLE'],
        me.teams.map((t) => [t.slug, t.name, t.viewerRole.toLowerCase()]),
      ),
    );
}
