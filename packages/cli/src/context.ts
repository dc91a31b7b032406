import type { CliEnv } from './env.ts';
import { loadConfig } from './config.ts';
import { CliError } from './errors.ts';
import type { Connection } from './graphql.ts';

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export interface CommandContext {
  env: CliEnv;
  io: Io;
  /** Hub URL and token: --url/--token flags, then DAPPLE_URL/DAPPLE_TOKEN, then the config from `dapple login`. */
  connection(flags: { url?: string; token?: string }): Promise<Connection>;
}

export function createContext(env: CliEnv, io: Io): CommandContext {
  return {
    env,
    io,
    async connection(flags) {
      const stored = flags.url && flags.token ? undefined : await loadConfig(env.configPath);
      const url = flags.url ?? env.url ?? stored?.url;
      const token = flags.token ?? env.token ?? stored?.token;
      if (!url || !token) {
        throw new CliError(
          'not logged in: run `dapple login --url <hub> --token dpl_...` or set DAPPLE_URL and DAPPLE_TOKEN',
          'UNAUTHENTICATED',
        );
      }
      return { url, token };
    },
  };
}
