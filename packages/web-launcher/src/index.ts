import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdir, rm, stat, readdir, writeFile, readFile, readlink, utimes } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_APP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../apps/web');
// Resolved from apps/web, whose dependency `next` is.
const NEXT_BIN = join(
  dirname(createRequire(join(WEB_APP_DIR, 'package.json')).resolve('next/package.json')),
  'dist/bin/next',
);

// Inputs of `next build`: if none is newer than the last build, the build is reused.
const BUILD_INPUTS = ['src', 'public', 'next.config.ts', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];
const BUILD_MARKER = '.next/BUILD_ID';
const LOCK_DIR = '.next-build.lock';

export interface WebServer {
  /** Origin of the dashboard, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The last ~64 KiB of the server's stdout and stderr (server-side render errors land here). */
  logs(): string;
  /** The `next start` process (leader of its own process group). */
  pid: number;
  /** Settles when `next start` exits, for whatever reason (a supervisor restarts it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  close(): Promise<void>;
}

export interface BuildOptions {
  /**
   * Give up (and stop the build) after this long. Default: no deadline — `next build` on a loaded 2-core machine
   * has taken over 5 minutes, and killing it then only makes the next start build again from scratch.
   */
  timeoutMs?: number;
  /** Each line `next build` prints, to show progress. */
  onLine?: (line: string) => void;
  /** Aborting stops the build (e.g. Ctrl-C while `npm start` builds). */
  signal?: AbortSignal;
  /**
   * Type-check the dashboard as part of the build (default true). The tests turn it off: `npm test` type-checks
   * apps/web in checks/typescript.test.ts anyway, and the build's own check is ~30 s on one core that every browser
   * test waits for. What the build outputs is the same either way.
   */
  typeCheck?: boolean;
}

export interface StartWebOptions {
  /** Origin of the Dapple API the dashboard proxies `/graphql`, `/objects/*` and `/healthz` to. */
  apiUrl: string;
  /** Port to listen on (the API must know the dashboard's origin before it starts, so the caller picks it). */
  port: number;
  /** How long to wait for `next start` to answer once built; default 5 minutes. */
  timeoutMs?: number;
  /** The build (when the sources changed since the last one): no deadline unless given. */
  build?: BuildOptions;
  /** Receives each line `next start` prints (stderr lines flagged), e.g. to show render errors in `npm start`'s log. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/**
 * Runs the production build of apps/web (`next start`) on `port`, proxying to `apiUrl`.
 * Builds first when the sources are newer than the last build; concurrent callers (vitest workers)
 * wait for one build instead of racing.
 */
export async function startWeb(options: StartWebOptions): Promise<WebServer> {
  await ensureWebBuild(options.build);
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  const port = options.port;
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [NEXT_BIN, 'start', '--port', String(port), '--hostname', '127.0.0.1'], {
    cwd: WEB_APP_DIR,
    env: { ...process.env, DAPPLE_API_URL: options.apiUrl, NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production' },
    // Own process group, so close() can stop next and anything it spawned.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child, options.onLine);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  try {
    await waitUntilReady(url, child, deadline, output);
  } catch (err) {
    await stopGroup(child);
    throw err;
  }
  return { url, logs: () => output.text(), pid: child.pid!, exited, close: () => stopGroup(child) };
}

/** True when `next build` must run first (no build yet, or a source is newer than it). */
export function webBuildNeeded(): Promise<boolean> {
  return buildIsStale();
}

/** Builds apps/web unless `.next` is newer than every build input. Safe to call from parallel workers. */
export async function ensureWebBuild(options: BuildOptions = {}): Promise<void> {
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  if (!(await buildIsStale())) return;
  const lock = join(WEB_APP_DIR, LOCK_DIR);
  await acquireLock(lock, deadline);
  try {
    // Another worker may have finished the build while we waited for the lock.
    if (!(await buildIsStale())) return;
    // The build reads sources while it runs: a file saved meanwhile may be missing from it. Dating the
    // marker to the build's start makes such a file newer than the build, so the next call rebuilds.
    const startedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000);
    await runBuild(deadline, options.onLine, lock, options.signal, options.typeCheck ?? true);
    await utimes(join(WEB_APP_DIR, BUILD_MARKER), startedAt, startedAt);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

async function buildIsStale(): Promise<boolean> {
  const built = await mtimeOf(join(WEB_APP_DIR, BUILD_MARKER));
  if (built === undefined) return true;
  for (const input of BUILD_INPUTS) {
    const newest = await newestMtime(join(WEB_APP_DIR, input));
    if (newest !== undefined && newest > built) return true;
  }
  return false;
}

async function runBuild(
  deadline: number,
  onLine: ((line: string) => void) | undefined,
  lock: string,
  signal: AbortSignal | undefined,
  typeCheck: boolean,
): Promise<void> {
  const child = spawn(process.execPath, [NEXT_BIN, 'build'], {
    cwd: WEB_APP_DIR,
    // next.config.ts reads DAPPLE_WEB_BUILD_TYPECHECK (an inherited '0' is overridden when a check is asked for).
    env: {
      ...process.env,
      NEXT_TELEMETRY_DISABLED: '1',
      NODE_ENV: 'production',
      DAPPLE_WEB_BUILD_TYPECHECK: typeCheck ? '1' : '0',
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The build runs in its own process group and outlives a holder killed with -9: whoever takes the lock over
  // stops it first (see acquireLock), instead of a second build writing into the same .next.
  if (child.pid !== undefined) await writeFile(join(lock, 'build-pid'), String(child.pid));
  const output = collectOutput(child, onLine && ((line) => onLine(line)));
  let timedOut = false;
  const onAbort = () => void stopGroup(child);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = Number.isFinite(deadline)
    ? setTimeout(() => ((timedOut = true), void stopGroup(child)), Math.max(0, deadline - Date.now()))
    : undefined;
  const { code, exitSignal } = await new Promise<{ code: number | null; exitSignal: NodeJS.Signals | null }>((done) =>
    child.on('exit', (c, s) => done({ code: c, exitSignal: s })),
  );
  clearTimeout(timer);
  signal?.removeEventListener('abort', onAbort);
  if (code !== 0) {
    const how = signal?.aborted
      ? 'stopped on request'
      : timedOut
        ? 'stopped: it ran past its time limit'
        : code === null
          ? `killed by ${exitSignal ?? 'a signal'} (out of memory?)`
          : `exit ${code}`;
    throw new Error(`next build of apps/web failed (${how}):\n${output.text().slice(-4000)}`);
  }
}

async function acquireLock(lock: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(join(lock, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // A lock left by a process that died (e.g. a killed test run) must not block forever.
    const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => ''));
    if (holder && !processIsAlive(holder)) {
      await stopOrphanBuild(lock);
      await rm(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`Timed out waiting for the apps/web build lock ${lock} (held by pid ${holder})`);
    await sleep(250);
  }
}

/** Stops the `next build` a dead lock holder left running (checked by its command line: pids are reused). */
async function stopOrphanBuild(lock: string): Promise<void> {
  const pid = Number(await readFile(join(lock, 'build-pid'), 'utf8').catch(() => ''));
  if (!pid || !processIsAlive(pid)) return;
  // next renames its process ("next-build (v16…)"), so the command line only says it is a next build; the working
  // directory says it is this app's (other checkouts build their own).
  const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
  if (!/next/.test(cmd) || !/build/.test(cmd) || cwd !== WEB_APP_DIR) return;
  signalGroup(pid, 'SIGTERM');
  for (let i = 0; i < 50 && processIsAlive(pid); i++) await sleep(100);
  signalGroup(pid, 'SIGKILL');
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function mtimeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return undefined;
  }
}

async function newestMtime(path: string): Promise<number | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch {
    return undefined;
  }
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs; // a deleted file only shows as a newer directory mtime
  for (const entry of await readdir(path)) {
    const child = await newestMtime(join(path, entry));
    if (child !== undefined && child > newest) newest = child;
  }
  return newest;
}

// An answer at `url` alone proves nothing: if the port was taken, next exits with EADDRINUSE while
// whatever holds the port answers. So the child must also have printed its "Ready" line.
async function waitUntilReady(url: string, child: ChildProcess, deadline: number, output: Output): Promise<void> {
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `next start exited (${child.exitCode ?? child.signalCode}) before answering at ${url}:\n${output.text().slice(-4000)}`,
      );
    }
    if (/\bReady\b/.test(output.text())) {
      try {
        // Any HTTP answer means the server is up; the page itself may redirect.
        await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5_000) });
        if (child.exitCode === null && child.signalCode === null) return;
      } catch {
        // not listening yet
      }
    }
    if (Date.now() > deadline)
      throw new Error(`next start did not answer at ${url} in time:\n${output.text().slice(-4000)}`);
    await sleep(200);
  }
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  signalGroup(child.pid, 'SIGTERM');
  const killTimer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), 5_000);
  await exited;
  clearTimeout(killTimer);
  // next start may leave worker processes in the group after the parent exits.
  signalGroup(child.pid, 'SIGKILL');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already gone
  }
}

interface Output {
  text(): string;
}

// Keeps the last ~64 KiB of stdout+stderr for error messages, and drains the pipes so the child never blocks.
function collectOutput(child: ChildProcess, onLine?: StartWebOptions['onLine']): Output {
  let buffer = '';
  const partial = { stdout: '', stderr: '' };
  const append = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    buffer = (buffer + text).slice(-65_536);
    if (!onLine) return;
    const lines = (partial[stream] + text).split('\n');
    partial[stream] = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) onLine(line, stream);
  };
  child.stdout?.on('data', append('stdout'));
  child.stderr?.on('data', append('stderr'));
  return { text: () => buffer };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
