/**
 * `npm start`: the whole hub on one machine, supervised. Embedded Postgres unless DATABASE_URL is set, migrations,
 * the GraphQL hub (its own process, hub-process.ts) and the dashboard (`next start`, built first when its sources
 * changed). The hub answers and takes runs while the dashboard builds. A part that dies is restarted with backoff;
 * what a crash left running (pid files in <DAPPLE_DATA_DIR>/run, Postgres' postmaster.pid) is stopped on the next
 * start, which says what it did. Ctrl-C stops everything in reverse order.
 */
import { fork } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { createDb, migrate } from '@dapple/db';
import { startEmbeddedPostgres } from '@dapple/db/embedded';
import { startWeb, webBuildNeeded } from '@dapple/web-launcher';
import { createLogger, EnvError, loadEnv, type Logger } from '../index.ts';
import type { HubReadyMessage } from './hub-process.ts';
import { removePidFile, writePidFile } from './processes.ts';
import { recoverFromCrash, SUPERVISOR_MARKER } from './recover.ts';
import { Supervised, type Running } from './supervised.ts';

const HUB_SCRIPT = fileURLToPath(new URL('./hub-process.ts', import.meta.url));
const HUB_MARKER = 'cli/hub-process.ts';

async function main(): Promise<void> {
  let env;
  try {
    env = loadEnv();
  } catch (err) {
    if (err instanceof EnvError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const pretty = process.stdout.isTTY;
  const logger = createLogger(env.LOG_LEVEL, { pretty });
  const dataDir = resolve(env.DAPPLE_DATA_DIR);
  const pgDataDir = join(dataDir, 'postgres');
  const stack: Array<{ name: string; stop: () => Promise<void> }> = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const part of stack.reverse()) {
      try {
        await part.stop();
        logger.info(`${part.name} stopped`);
      } catch (err) {
        logger.error({ err }, `${part.name} did not stop cleanly`);
      }
    }
    await removePidFile(dataDir, 'supervisor');
    process.exit(code);
  };
  // on, not once: a terminal's Ctrl-C reaches this process twice (directly and forwarded by tsx); a second SIGINT
  // with no listener left would kill it mid-shutdown. stopAll ignores repeats.
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  // The supervisor itself must not die of a stray rejection: it would orphan every part.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection in npm start'));

  try {
    await mkdir(dataDir, { recursive: true });
    for (const action of await recoverFromCrash({ dataDir, pgDataDir: env.DATABASE_URL ? undefined : pgDataDir }))
      logger.warn(`recovering from an earlier crash: ${action}`);
    await writePidFile(dataDir, { name: 'supervisor', pid: process.pid, marker: SUPERVISOR_MARKER, group: false });

    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      const port = env.EMBEDDED_PG_PORT;
      let url = '';
      const postgres = new Supervised({
        name: 'embedded Postgres',
        logger,
        // Postgres writes its own postmaster.pid; recoverFromCrash reads that one.
        start: async (): Promise<Running> => {
          const pg = await startEmbeddedPostgres({ dataDir: pgDataDir, port });
          url = pg.connectionString;
          return { pid: pg.pid, exited: pg.exited, stop: () => pg.stop() };
        },
        onStarted: (_r, restarts) =>
          logger.info(`embedded Postgres on port ${port} (data in ${pgDataDir})${restarts ? ' — restarted' : ''}`),
      });
      await postgres.start();
      stack.push({ name: 'embedded Postgres', stop: () => postgres.stop() });
      databaseUrl = url;
    }

    const migrator = createDb(databaseUrl, { max: 1, applicationName: 'dapple-migrate' });
    try {
      await migrate(migrator.db);
    } finally {
      await migrator.close();
    }

    // The dashboard's port is checked before anything uses its origin: another Dapple (or anything) there would
    // answer in place of ours.
    await assertPortFree(env.WEB_PORT, 'WEB_PORT');
    const webOrigin = `http://127.0.0.1:${env.WEB_PORT}`;
    let hubUrl = '';
    let graphqlUrl = '';
    const hub = new Supervised({
      name: 'hub',
      logger,
      pidFile: { dataDir, marker: HUB_MARKER, group: true },
      start: () =>
        startHubProcess(
          {
            ...process.env,
            DATABASE_URL: databaseUrl,
            DAPPLE_WEB_ORIGIN: webOrigin,
            DAPPLE_PRETTY_LOGS: pretty ? '1' : '0',
          },
          logger,
        ).then((started) => {
          hubUrl = started.url;
          graphqlUrl = started.graphqlUrl;
          return started;
        }),
    });
    await hub.start();
    stack.push({ name: 'hub', stop: () => hub.stop() });
    logger.info(`hub ready at ${hubUrl}: it answers and takes runs while the dashboard starts`);

    const building = new AbortController();
    const dashboard = new Supervised({
      name: 'dashboard',
      logger,
      pidFile: { dataDir, marker: `next start --port ${env.WEB_PORT}`, group: true },
      start: () => startDashboard(hubUrl, env.WEB_PORT, logger, building.signal),
    });
    // Stopped before the hub: trainers reach objects through the hub itself, not the dashboard.
    stack.push({ name: 'dashboard', stop: () => (building.abort(), dashboard.stop()) });
    const storeLabel = env.S3_ENDPOINT
      ? `S3 ${env.S3_ENDPOINT} bucket ${env.S3_BUCKET}`
      : `disk ${join(dataDir, 'objects')}`;
    const banner = () =>
      [
        '',
        '  Dapple is running',
        `  dashboard   ${webOrigin}`,
        `  GraphQL     ${graphqlUrl}`,
        `  health      ${hubUrl}/healthz`,
        `  objects     ${storeLabel}`,
        `  database    ${env.DATABASE_URL ? 'DATABASE_URL' : 'embedded Postgres'}`,
        '',
        '  Ctrl-C stops everything.',
        '',
      ].join('\n');
    // Not awaited: the hub serves (API, CLI, trainers) while the dashboard builds.
    dashboard.start().then(
      () => console.log(banner()),
      () =>
        stopping ||
        logger.error(
          `the dashboard could not start (see the error above); the hub keeps running at ${hubUrl}. Fix it and run npm start again.`,
        ),
    );
  } catch (err) {
    logger.error({ err }, 'start failed');
    await stopAll(1);
  }
}

/** Forks hub-process.ts (own process group: Ctrl-C reaches only the supervisor) and waits for its ready message. */
function startHubProcess(env: NodeJS.ProcessEnv, logger: Logger): Promise<Running & HubReadyMessage> {
  const child = fork(HUB_SCRIPT, [], {
    env,
    // tsx, as `npm start` itself runs: the hub is TypeScript source.
    execArgv: ['--import', import.meta.resolve('tsx')],
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => done({ code, signal })),
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    // Trainers checkpoint before the hub exits: give them time, then make sure.
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    child.once('message', (msg: HubReadyMessage) => {
      if (msg?.type !== 'hub-ready') return;
      void exited.then(({ code, signal }) => logger.warn(`the hub process exited (${code ?? signal})`));
      resolve({ ...msg, pid: child.pid, exited, stop });
    });
    void exited.then(({ code, signal }) => reject(new Error(`the hub exited (${code ?? signal}) before it was ready`)));
  });
}

/**
 * Builds the dashboard when needed — no deadline: a cold `next build` on a busy 2-core machine takes minutes —
 * saying how long it has been at it, then starts `next start`.
 */
async function startDashboard(hubUrl: string, port: number, logger: Logger, signal: AbortSignal): Promise<Running> {
  const webLog = logger.child({ part: 'dashboard' });
  const building = await webBuildNeeded();
  const started = Date.now();
  let lastLine = '';
  const elapsed = () => formatSeconds((Date.now() - started) / 1000);
  const progress = building
    ? setInterval(
        () => logger.info(`dashboard: still building (${elapsed()} so far${lastLine ? `; ${lastLine}` : ''})`),
        20_000,
      )
    : undefined;
  if (building)
    logger.info('dashboard: building it first (sources changed or no build yet; 1–5 min, more on a busy machine)');
  try {
    const web = await startWeb({
      apiUrl: hubUrl,
      port,
      build: {
        signal,
        onLine: (line) => {
          lastLine = line.trim().slice(0, 120);
          webLog.debug(line);
        },
      },
      // Render errors of the dashboard belong in the same terminal as the hub's.
      onLine: (line, stream) => (stream === 'stderr' ? webLog.error(line) : webLog.debug(line)),
    });
    logger.info(`dashboard ready at ${web.url}${building ? ` (built in ${elapsed()})` : ''}`);
    return { pid: web.pid, exited: web.exited, stop: () => web.close() };
  } catch (err) {
    if (signal.aborted) throw err;
    logger.error({ err }, building ? `dashboard: the build failed after ${elapsed()}` : 'dashboard: next start failed');
    throw err;
  } finally {
    clearInterval(progress);
  }
}

function formatSeconds(s: number): string {
  return s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** Throws a readable error when something already listens on the port. */
async function assertPortFree(port: number, variable: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`port ${port} is already in use (another Dapple?); stop it or set ${variable}`)
          : err,
      ),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

void main();
