import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '@dapple/testing';

/**
 * `npm start` as a user runs it (tsx apps/server/src/cli/start.ts, embedded Postgres, hub, dashboard), killed with
 * -9 part by part: each part comes back by itself, and after the supervisor itself is killed the next start stops
 * what was left and says so. Real processes, real ports; waits are bounded but generous (the first start may build
 * the dashboard).
 */
const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const START = join(REPO, 'apps/server/src/cli/start.ts');
const BUILD_MS = 20 * 60_000;

interface Started {
  child: ChildProcess;
  output: () => string;
}

let dataDir = '';
const started: Started[] = [];
let ports: { hub: number; web: number; pg: number };

function startDapple(): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', START], {
    cwd: REPO,
    env: {
      ...process.env,
      DAPPLE_DATA_DIR: dataDir,
      PORT: String(ports.hub),
      WEB_PORT: String(ports.web),
      EMBEDDED_PG_PORT: String(ports.pg),
      LOG_LEVEL: 'info',
      DATABASE_URL: '',
      PUBLIC_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  // Also to a file beside the data dir, to follow a slow run while it happens.
  const log = createWriteStream(`${dataDir}.log`, { flags: 'a' });
  const collect = (d: Buffer) => {
    text += d.toString();
    log.write(d);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const s = { child, output: () => text };
  started.push(s);
  return s;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number, s?: Started) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (s && s.child.exitCode !== null)
      throw new Error(`npm start exited while waiting for ${what}:\n${s.output().slice(-4000)}`);
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${s ? `; npm start printed:\n${s.output().slice(-4000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function pidOf(name: string): Promise<number> {
  return (JSON.parse(await readFile(join(dataDir, 'run', `${name}.pid`), 'utf8')) as { pid: number }).pid;
}
async function postmasterPid(): Promise<number> {
  return Number((await readFile(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
}
/** Running, not a zombie: a killed process whose new parent (pid 1 in a container) does not reap it still "exists". */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}
async function healthy(): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${ports.hub}/healthz`, { signal: AbortSignal.timeout(5000) });
  return res.status === 200 && ((await res.json()) as { db: string }).db === 'ok';
}
async function dashboardAnswers(): Promise<boolean> {
  const res = await fetch(`http://127.0.0.1:${ports.web}/`, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
  return res.status < 500;
}

afterAll(async () => {
  // A child killed by a signal keeps exitCode null: signalCode says it has exited.
  const running = started.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
  for (const s of running) s.child.kill('SIGTERM');
  await Promise.all(running.map((s) => new Promise((r) => s.child.once('exit', r))));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (dataDir) await rm(`${dataDir}.log`, { force: true });
}, 180_000);

describe('npm start is crash-only', () => {
  it(
    'restarts a killed dashboard, hub and Postgres; the next start cleans up after a killed supervisor',
    async () => {
      // A cold start on a loaded machine (tsx compiling the hub, initdb, migrations) takes minutes.
      dataDir = await mkdtemp(join(tmpdir(), 'dapple-start-'));
      // Postgres runs as its own user when we are root: it must reach its data directory inside this one.
      await chmod(dataDir, 0o755);
      ports = { hub: await freePort(), web: await freePort(), pg: await freePort() };
      const first = startDapple();
      await waitFor('the hub', healthy, 8 * 60_000, first);
      await waitFor('the dashboard', async () => first.output().includes('Dapple is running'), BUILD_MS, first);

      // kill -9 of the dashboard (the whole process group next runs in).
      const web = await pidOf('dashboard');
      process.kill(-web, 'SIGKILL');
      await waitFor(
        'a new dashboard',
        async () => (await pidOf('dashboard')) !== web && dashboardAnswers(),
        5 * 60_000,
        first,
      );

      // kill -9 of the hub.
      const hub = await pidOf('hub');
      process.kill(hub, 'SIGKILL');
      await waitFor('a new hub', async () => (await pidOf('hub')) !== hub && healthy(), 5 * 60_000, first);

      // kill -9 of the embedded Postgres.
      const pg = await postmasterPid();
      process.kill(pg, 'SIGKILL');
      await waitFor('a new Postgres', async () => (await postmasterPid()) !== pg && healthy(), 5 * 60_000, first);
      expect(first.output()).toMatch(/embedded Postgres stopped unexpectedly; restarting/);

      // kill -9 of the supervisor itself: Postgres and the dashboard are left running, holding their ports.
      const leftDashboard = await pidOf('dashboard');
      const leftPostgres = await postmasterPid();
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));
      expect(alive(leftPostgres)).toBe(true);

      const second = startDapple();
      await waitFor('the second start', async () => second.output().includes('Dapple is running'), BUILD_MS, second);
      expect(second.output()).toContain(
        `recovering from an earlier crash: stopped the dashboard an earlier start left running (pid ${leftDashboard})`,
      );
      expect(second.output()).toContain(
        `recovering from an earlier crash: stopped the embedded Postgres an earlier start left running (pid ${leftPostgres})`,
      );
      expect(await healthy()).toBe(true);
      expect(alive(leftDashboard)).toBe(false);

      // Ctrl-C (SIGTERM here) stops everything and leaves no pid file behind.
      const parts = [await pidOf('hub'), await pidOf('dashboard'), await postmasterPid()];
      second.child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => second.child.once('exit', (c) => r(c)));
      expect(code).toBe(0);
      await waitFor('every part to stop', async () => parts.every((p) => !alive(p)), 60_000);
    },
    60 * 60_000,
  );
});
