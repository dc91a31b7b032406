import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/** The CLI's environment, read once here (nowhere else reads process.env). */
const schema = z.object({
  DAPPLE_URL: z.url({ message: 'DAPPLE_URL must be a URL like http://localhost:4000' }).optional(),
  DAPPLE_TOKEN: z.string().min(1).optional(),
  /** Overrides where `dapple login` stores its config (default $XDG_CONFIG_HOME/dapple/config.json). */
  DAPPLE_CONFIG: z.string().min(1).optional(),
  XDG_CONFIG_HOME: z.string().min(1).optional(),
  NO_COLOR: z.string().optional(),
});

/** Every variable the CLI reads (docs/configuration.md lists each; checks/env-docs.test.ts compares). */
export const CLI_ENV_VARS = Object.keys(schema.shape);

export interface CliEnv {
  url?: string;
  token?: string;
  configPath: string;
}

export function readCliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  const configHome = e.XDG_CONFIG_HOME ?? join(homedir(), '.config');
  return {
    url: e.DAPPLE_URL,
    token: e.DAPPLE_TOKEN,
    configPath: e.DAPPLE_CONFIG ?? join(configHome, 'dapple', 'config.json'),
  };
}
