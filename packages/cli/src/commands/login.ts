import { saveConfig } from '../config.ts';
import type { CommandContext } from '../context.ts';
import { UsageError } from '../errors.ts';
import { request } from '../graphql.ts';
import { WHOAMI, type WhoamiResult } from './whoami.ts';

export const loginHelp = `dapple login --url <hub> --token dpl_...   (--token - reads it from stdin, out of shell history)
  Checks the token against the hub, then stores both in the config file (mode 0600).`;

export async function login(
  ctx: CommandContext,
  flags: { url?: string; token?: string },
  stdin: () => Promise<string>,
): Promise<void> {
  if (!flags.url) throw new UsageError('login needs --url <hub>, e.g. --url http://localhost:4000');
  if (!flags.token) throw new UsageError('login needs --token dpl_... (create one under Settings → API tokens)');
  let token = flags.token;
  if (token === '-') {
    token = (await stdin()).trim();
    if (!token) throw new UsageError('--token -: stdin was empty');
  }
  let url: URL;
  try {
    url = new URL(flags.url);
  } catch {
    throw new UsageError(`--url: "${flags.url}" is not a URL`);
  }
  const conn = { url: url.origin, token };
  const { me } = await request<WhoamiResult>(conn, WHOAMI);
  if (!me) throw new UsageError('the hub did not accept this token');
  await saveConfig(ctx.env.configPath, conn);
  ctx.io.out(`Logged in to ${conn.url} as ${me.name} <${me.email}>. Config: ${ctx.env.configPath}`);
}
