/**
 * The hub in its own process, started and supervised by `npm start` (start.ts): if it dies, the supervisor
 * restarts it and its trainers, which keep running, are re-adopted. Reads the same environment as start.ts, plus
 * DATABASE_URL (the embedded cluster's, set by start.ts) and DAPPLE_WEB_ORIGIN (the dashboard's origin: browsers
 * get object URLs there, one origin and no CORS; trainers get URLs of the hub itself, so they never depend on the
 * dashboard). Tells the supervisor it is ready over IPC; SIGTERM stops it (trainers checkpoint and are re-queued).
 */
import {
  createHub,
  createLogger,
  hubConfigFromEnv,
  loadEnv,
  loadOrCreateSecret,
  objectStoreFromEnv,
} from '../index.ts';
import { installProcessGuards } from '../process-guards.ts';

export interface HubReadyMessage {
  type: 'hub-ready';
  url: string;
  graphqlUrl: string;
}

async function main(): Promise<void> {
  const env = loadEnv();
  const logger = createLogger(env.LOG_LEVEL, { pretty: env.DAPPLE_PRETTY_LOGS === true });
  installProcessGuards(logger);
  const webOrigin = env.DAPPLE_WEB_ORIGIN;
  const secret = await loadOrCreateSecret(env);
  const browserStore =
    env.PUBLIC_URL || !webOrigin ? undefined : objectStoreFromEnv({ ...env, PUBLIC_URL: webOrigin }, secret);
  const config = await hubConfigFromEnv(env, browserStore ? { store: browserStore } : {});
  const hub = await createHub({
    ...config,
    // Without PUBLIC_URL this is the hub's own http://HOST:PORT.
    ...(browserStore ? { trainerStore: objectStoreFromEnv(env, secret) } : {}),
    logger,
    allowedOrigins: webOrigin ? [webOrigin, webOrigin.replace('127.0.0.1', 'localhost')] : [],
  });
  let stopping = false;
  const stop = async (stopTrainers: boolean, code: number) => {
    if (stopping) return;
    stopping = true;
    try {
      await hub.close({ stopTrainers });
    } catch (err) {
      logger.error({ err }, 'the hub did not stop cleanly');
      code = 1;
    }
    process.exit(code);
  };
  process.on('SIGTERM', () => void stop(true, 0));
  // Ctrl-C in a terminal reaches the supervisor, which stops the parts in order; this process ignores it.
  process.on('SIGINT', () => {});
  // The supervisor is gone (killed): stop serving, leave trainers running for the next start to re-adopt.
  process.on('disconnect', () => {
    logger.warn('the npm start supervisor is gone; stopping the hub (trainers keep running)');
    void stop(false, 0);
  });
  process.send?.({ type: 'hub-ready', url: hub.url, graphqlUrl: hub.graphqlUrl } satisfies HubReadyMessage);
}

main().catch((err: unknown) => {
  console.error('the hub could not start:', err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
