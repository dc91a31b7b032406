/**
 * `npm start`: the whole hub on one machine. Embedded Postgres unless DATABASE_URL is set, migrations,
 * the GraphQL hub, and the dashboard (built on first start). Ctrl-C stops everything in reverse order.
 */
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createDb, migrate } from '@dapple/db';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@dapple/db/embedded';
import { startWeb, type WebServer } from '@dapple/web-launcher';
import {
  createHub,
  createLogger,
  EnvError,
  hubConfigFromEnv,
  loadEnv,
  loadOrCreateSecret,
  objectStoreFromEnv,
  type Hub,
} from '../index.ts';

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
  const logger = createLogger(env.LOG_LEVEL, { pretty: process.stdout.isTTY });
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
    process.exit(code);
  };
  // on, not once: a terminal's Ctrl-C reaches this process twice (directly and forwarded by tsx); a second SIGINT
  // with no listener left would kill it mid-shutdown. stopAll ignores repeats.
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const dataDir = resolve(env.DAPPLE_DATA_DIR);
    await mkdir(dataDir, { recursive: true });

    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      const pg: EmbeddedPostgresHandle = await startEmbeddedPostgres({
        dataDir: join(dataDir, 'postgres'),
        port: env.EMBEDDED_PG_PORT,
      });
      stack.push({ name: 'embedded Postgres', stop: () => pg.stop() });
      databaseUrl = pg.connectionString;
      logger.info(`embedded Postgres on port ${pg.port} (data in ${join(dataDir, 'postgres')})`);
    }

    const migrator = createDb(databaseUrl, { max: 1, applicationName: 'dapple-migrate' });
    try {
      await migrate(migrator.db);
    } finally {
      await migrator.close();
    }

    const webOrigin = `http://127.0.0.1:${env.WEB_PORT}`;
    // Disk-store URLs (uploads, previews, artifacts) point at the dashboard, which streams /objects/* to the hub:
    // the browser then talks to one origin only, and needs no CORS. PUBLIC_URL, when set, wins.
    const store = env.PUBLIC_URL
      ? undefined
      : objectStoreFromEnv({ ...env, PUBLIC_URL: webOrigin }, await loadOrCreateSecret(env));
    const config = await hubConfigFromEnv(env, { databaseUrl, store });
    const hub: Hub = await createHub({
      ...config,
      logger,
      allowedOrigins: [webOrigin, `http://localhost:${env.WEB_PORT}`],
    });
    // This machine is the hub's: Ctrl-C stops the trainers too (they checkpoint; the next start resumes them).
    stack.push({ name: 'hub', stop: () => hub.close({ stopTrainers: true }) });

    // A dashboard left running elsewhere on this port would answer in place of ours: refuse clearly instead.
    await assertPortFree(env.WEB_PORT, 'WEB_PORT');
    logger.info('building / starting the dashboard (the first start builds it)');
    const webLog = logger.child({ part: 'dashboard' });
    const web: WebServer = await startWeb({
      apiUrl: hub.url,
      port: env.WEB_PORT,
      // Render errors of the dashboard belong in the same terminal as the hub's.
      onLine: (line, stream) => (stream === 'stderr' ? webLog.error(line) : webLog.debug(line)),
    });
    // Stopped after the hub (not before): trainers suspended by the hub upload their last checkpoint through the
    // dashboard's /objects route, where the disk store's URLs point.
    stack.splice(stack.length - 1, 0, { name: 'dashboard', stop: () => web.close() });

    const storeLabel = env.S3_ENDPOINT
      ? `S3 ${env.S3_ENDPOINT} bucket ${env.S3_BUCKET}`
      : `disk ${join(dataDir, 'objects')}`;
    console.log(
      [
        '',
        '  Dapple is running',
        `  dashboard   ${web.url}`,
        `  GraphQL     ${hub.graphqlUrl}`,
        `  health      ${hub.url}/healthz`,
        `  objects     ${storeLabel}`,
        `  database    ${env.DATABASE_URL ? 'DATABASE_URL' : 'embedded Postgres'}`,
        '',
        '  Ctrl-C stops everything.',
        '',
      ].join('\n'),
    );
  } catch (err) {
    logger.error({ err }, 'start failed');
    await stopAll(1);
  }
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
