import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gqlClient } from '@dapple/testing';
import { expect } from 'vitest';

// What every CLI test does: run the real `dapple` binary as a user would, and sign a user up on the hub first.

// The `dapple` command as npm installs it (@dapple/cli's bin).
export const DAPPLE_BIN = createRequire(import.meta.url).resolve('@dapple/cli/bin/dapple.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process with a private HOME/config and only the env given. */
export function runCli(
  home: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [DAPPLE_BIN, ...args],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          DAPPLE_CONFIG: join(home, 'dapple.json'),
          ...env,
        },
        timeout: timeoutMs,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * Starts the real CLI as runCli does, for a test that acts while it runs (Ctrl-C): `stderr()` is what it wrote so
 * far, `exited` its result.
 */
export function spawnCli(
  home: string,
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; stderr: () => string; exited: Promise<CliResult> } {
  const child = spawn(process.execPath, [DAPPLE_BIN, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, DAPPLE_CONFIG: join(home, 'dapple.json'), ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })),
  );
  return { child, stderr: () => stderr, exited };
}

/** A `--json` command's output, after checking that it succeeded. */
export function json<T>(res: CliResult): T {
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as T;
}

/** Ann signs up on the hub, creates the team "vision" and an API token named "cli" (the CLI's credentials). */
export async function annWithToken(graphqlUrl: string): Promise<{ teamId: string; token: string }> {
  const ann = gqlClient(graphqlUrl);
  await ann.request(
    `mutation { signUp(input: { email: "ann@example.com", password: "password-ann", name: "Ann" }) { user { id } } }`,
  );
  const team = await ann.request<{ createTeam: { id: string } }>(
    `mutation { createTeam(input: { name: "Vision", slug: "vision" }) { id } }`,
  );
  const created = await ann.request<{ createApiToken: { secret: string } }>(
    `mutation { createApiToken(input: { name: "cli" }) { secret } }`,
  );
  return { teamId: team.data!.createTeam.id, token: created.data!.createApiToken.secret };
}
