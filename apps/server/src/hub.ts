import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { createDb, type Db } from '@dapple/db';
import { createSignedObjectHandler, DiskStore, type ObjectStore } from '@dapple/storage';
import express from 'express';
import type pg from 'pg';
import type { LevelWithSilent } from 'pino';
import type { Context } from './graphql/context.ts';
import { createFormatError } from './graphql/format-error.ts';
import { tokenScopeError } from './graphql/token-scope.ts';
import { databaseUnavailableStatusPlugin } from './http/database-unavailable.ts';
import { DEFAULT_QUERY_LIMITS, limitRules, type QueryLimits } from './graphql/limits.ts';
import { getSchema } from './graphql/schema/index.ts';
import { textInputError } from './graphql/text-input.ts';
import { httpContext } from './http/request-context.ts';
import { bodyErrorHandler, capResponseBytes, rejectDeepNesting, sendGraphQLError } from './http/graphql-http-errors.ts';
import { healthCheck } from './http/health.ts';
import { requestLog } from './http/request-log.ts';
import { startWsServer } from './http/ws-server.ts';
import { createLogger, type Logger } from './logger.ts';
import {
  createServices,
  type EvaluationConfig,
  type SamplingConfig,
  type Services,
  type WebhookConfig,
} from './services/index.ts';
import type { SignUpMode } from './services/auth/index.ts';
import { createRunScheduler, type RunsConfig } from './services/runs/index.ts';
import { metricsFastPath } from './trainer-api/metrics-fast-path.ts';
import { TRAINER_API_PREFIX, trainerApiRouter } from './trainer-api/router.ts';
import { JobQueue } from './jobs/queue.ts';
import { resolveDatasetConfig, type DatasetConfigInput } from './services/datasets/index.ts';

export const GRAPHQL_PATH = '/graphql';
export const OBJECTS_PATH = '/objects';

export interface HubLimits extends QueryLimits {
  /** Largest accepted JSON request body. */
  maxBodyBytes: number;
}

export const DEFAULT_HUB_LIMITS: HubLimits = { ...DEFAULT_QUERY_LIMITS, maxBodyBytes: 1024 * 1024 };

/** Everything the hub needs, passed in: createHub reads no environment and starts no database. */
export interface HubConfig {
  /** postgres:// URL of a migrated database. */
  databaseUrl: string;
  store: ObjectStore;
  /**
   * The same objects as `store`, with the URLs handed to trainers (default `store`). `npm start` points `store`'s
   * URLs at the dashboard (one origin for browsers) and this one at the hub itself, so a dashboard that is still
   * building, restarting or down breaks no run.
   */
  trainerStore?: ObjectStore;
  /** Port to listen on; 0 picks a free one (tests). Default 4000. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The URL users reach the hub at (https → Secure cookies). Also an allowed WebSocket origin. */
  publicUrl?: string;
  /** Browser origins (e.g. the web app, http://localhost:3000) whose session cookie may authenticate a WebSocket. */
  allowedOrigins?: string[];
  /**
   * Express `trust proxy`: whose X-Forwarded-For to believe for client IPs (sign-in limits, logs). Default
   * 'loopback' (the dashboard's own proxy); env DAPPLE_TRUSTED_PROXIES.
   */
  trustProxy?: boolean | number | string | string[];
  logger?: Logger;
  /** Used when no logger is given. Default 'info'. */
  logLevel?: LevelWithSilent;
  limits?: Partial<HubLimits>;
  auth?: {
    /**
     * Who may create an account: `invite` (default: the hub's first account, then only holders of a team invite) or
     * `open` (anyone; reveals which emails have accounts, rate-limited). Env DAPPLE_SIGNUP.
     */
    signUp?: SignUpMode;
    sessionTtlMs?: number;
    signInMaxFailures?: number;
    signInMaxFailuresPerIp?: number;
    signInWindowMs?: number;
  };
  dbPoolSize?: number;
  /** Clock for services (sessions, invites, tokens); injectable for tests. */
  now?: () => Date;
  /** Training runs: executor (default: local child processes), heartbeat timeout, where trainer output goes. */
  runs?: RunsConfig;
  /**
   * Background jobs (pg-boss in the same database). `workers: false` (tests that need no jobs): pg-boss is
   * not started until something is queued, and nothing runs here. Default: workers run in this hub.
   */
  jobs?: { workers?: boolean; pollingIntervalSeconds?: number };
  /** Dataset upload and preparation limits (env: DATASET_*). */
  datasets?: DatasetConfigInput;
  /** Sampling worker threads, per-team concurrency, model cache (env: DAPPLE_SAMPLING_*). */
  sampling?: Partial<SamplingConfig>;
  /** Evaluation extractors: the InceptionV3 graph model by URL or object key (env: DAPPLE_INCEPTION_MODEL_URL / _KEY). */
  evaluation?: EvaluationConfig;
  /** Webhook signing-secret encryption (the hub secret) and target policy; without `secret` webhooks are off. */
  webhooks?: WebhookConfig;
  /** Open subscription streams are re-authorised on every access change and at least this often. Default 60 s. */
  subscriptions?: { recheckIntervalMs?: number };
}

export interface Hub {
  /** Where the hub listens, e.g. http://127.0.0.1:4000 */
  url: string;
  graphqlUrl: string;
  httpServer: Server;
  db: Db;
  /** The pool behind `db`: raw SQL (metrics helpers), LISTEN connections. */
  pool: pg.Pool;
  services: Services;
  jobs: JobQueue;
  logger: Logger;
  /**
   * Stops accepting connections, drains requests and sockets, closes the database pool. Trainers keep running
   * (the next hub re-adopts them) unless `stopTrainers`: then they checkpoint and exit, and their runs are re-queued.
   */
  close(opts?: { stopTrainers?: boolean }): Promise<void>;
}

/** Express 5 + Apollo Server 5 (Pothos schema) + graphql-ws on one port. */
export async function createHub(config: HubConfig): Promise<Hub> {
  const logger = config.logger ?? createLogger(config.logLevel ?? 'info');
  const limits: HubLimits = { ...DEFAULT_HUB_LIMITS, ...config.limits };
  const dbHandle = createDb(config.databaseUrl, { max: config.dbPoolSize ?? 10, applicationName: 'dapple-hub' });
  const jobs = new JobQueue({
    executeSql: (text, values) => dbHandle.pool.query(text, values),
    logger,
    workers: config.jobs?.workers,
    pollingIntervalSeconds: config.jobs?.pollingIntervalSeconds,
  });
  const services = createServices({
    db: dbHandle.db,
    pool: dbHandle.pool,
    now: config.now,
    ...config.auth,
    store: config.store,
    ...(config.trainerStore ? { trainerStore: config.trainerStore } : {}),
    jobs,
    datasets: resolveDatasetConfig(config.datasets),
    ...(config.sampling ? { sampling: config.sampling } : {}),
    ...(config.evaluation ? { evaluation: config.evaluation } : {}),
    webhooks: config.webhooks,
  });
  const schema = getSchema();
  const formatError = createFormatError(logger);

  const app = express();
  // Binary metric batches are answered before express (see metrics-fast-path.ts); everything else is express.
  const metricsBatch = metricsFastPath(services.trainerRuns, logger);
  const httpServer = createServer((req, res) => void (metricsBatch(req, res) || app(req, res)));
  // The dashboard's proxy (and load balancers) reuse idle connections. With Node's 5 s default the hub can
  // close one just as the proxy sends on it, and the browser gets a 500; keep them open longer than the
  // clients' own idle timeouts (the usual 60 s), so the client always closes first.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy ?? 'loopback');
  app.use(
    requestLog(logger, {
      quiet: (req) => req.method === 'POST' && req.originalUrl === `${TRAINER_API_PREFIX}/metrics`,
    }),
  );

  const health = healthCheck(dbHandle.pool, logger);
  app.get('/healthz', health.handler);

  // DiskStore's upload/download URLs point back at the hub; S3 URLs go straight to the S3 server.
  if (config.store instanceof DiskStore) {
    const objects = createSignedObjectHandler(config.store, {
      onError: (err) => logger.error({ err }, 'object handler failed'),
      refuseWrite: (key) => services.uploads.refuseWrite(key),
    });
    // Not `app.use(OBJECTS_PATH, ...)`: that strips the mount path, and the handler reads the key from the full path.
    app.use((req, res, next) => (req.path.startsWith(`${OBJECTS_PATH}/`) ? void objects(req, res) : next()));
  }

  const ws = startWsServer({
    httpServer,
    path: GRAPHQL_PATH,
    schema,
    services,
    log: logger,
    limits,
    allowedOrigins: [...(config.allowedOrigins ?? []), ...(config.publicUrl ? [new URL(config.publicUrl).origin] : [])],
    formatError,
    ...(config.subscriptions?.recheckIntervalMs ? { recheckIntervalMs: config.subscriptions.recheckIntervalMs } : {}),
  });

  const apollo = new ApolloServer<Context>({
    schema,
    csrfPrevention: true,
    // Apollo's own switch would answer GRAPHQL_VALIDATION_FAILED; limitRules refuses with INTROSPECTION_DISABLED
    // (and the WebSocket path uses the same rules).
    introspection: true,
    includeStacktraceInErrorResponses: false,
    validationRules: limitRules(limits),
    parseOptions: { maxTokens: limits.maxTokens },
    formatError,
    logger,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      databaseUnavailableStatusPlugin,
      { serverWillStart: async () => ({ drainServer: () => ws.close() }) },
      {
        // NUL / lone surrogates in any string input: BAD_USER_INPUT naming the field, before any resolver runs.
        requestDidStart: async () => ({
          didResolveOperation: async ({ document, request, contextValue }) => {
            const error = textInputError(document, request.variables);
            if (error) throw error;
            const scopeError = tokenScopeError(document, request.operationName, contextValue.viewer);
            if (scopeError) throw scopeError;
          },
        }),
      },
    ],
  });
  await apollo.start();

  const secureCookies = config.publicUrl?.startsWith('https:') ?? false;
  app.use(TRAINER_API_PREFIX, trainerApiRouter(services.trainerRuns, logger));
  app.use(
    GRAPHQL_PATH,
    express.json({ limit: limits.maxBodyBytes }),
    rejectDeepNesting(limits),
    capResponseBytes(limits),
    expressMiddleware(apollo, { context: ({ req, res }) => httpContext({ services, secureCookies }, req, res) }),
  );
  app.use((req, res) => sendGraphQLError(res, 404, `No route for ${req.method} ${req.path}`, 'NOT_FOUND'));
  app.use(bodyErrorHandler);

  const port = config.port ?? 4000;
  const bindHost = config.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(port, bindHost, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await apollo.stop().catch(() => {});
    await dbHandle.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`Port ${port} on ${bindHost} is already in use: stop the other process or set PORT`, {
        cause: err,
      });
    }
    throw err;
  }
  jobs.startWorkersInBackground(services);
  services.startSampling(logger);
  const address = httpServer.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`;
  await services.runSignals.start(logger);
  await services.accessEvents.start(logger);
  services.teamActivity.useLogger(logger);
  await services.runWebhookRelay.start(logger);
  const scheduler = await createRunScheduler(services, config.runs, {
    hubUrl: config.publicUrl ?? url,
    logger,
    now: config.now,
  });
  logger.info({ url, graphql: `${url}${GRAPHQL_PATH}` }, 'hub listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    graphqlUrl: `${url}${GRAPHQL_PATH}`,
    httpServer,
    db: dbHandle.db,
    pool: dbHandle.pool,
    services,
    jobs,
    logger,
    close: (opts = {}) =>
      (closing ??= (async () => {
        if (opts.stopTrainers) await scheduler?.suspendTrainers();
        await scheduler?.close(); // unless stopped above, trainers keep running: the next hub re-adopts them
        await services.runSignals.close();
        await services.accessEvents.close();
        await services.teamActivity.close();
        await services.closeSampling(); // worker threads and the sampling LISTEN connection
        await services.runWebhookRelay.close();
        await jobs.stop();
        await apollo.stop(); // drains HTTP (and, via the plugin, WebSockets)
        await health.close();
        await dbHandle.close();
      })()),
  };
}
