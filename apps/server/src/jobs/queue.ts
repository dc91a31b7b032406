import PgBoss from 'pg-boss';
import { isAdminShutdown, sanitizeText } from '@dapple/db';
import type { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { Services } from '../services/index.ts';
import type { JobName, JobPayload, JobSender } from '../services/job-sender.ts';
import { JOB_CATALOG } from './catalog.ts';
import type { JobDefinition } from './job.ts';

export interface JobQueueOptions {
  /** Runs pg-boss's SQL; the hub passes its own pool so jobs need no extra connections. */
  executeSql(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
  logger: Logger;
  /** Run handlers in this process (default true). False: this hub only queues. */
  workers?: boolean;
  /** How often an idle worker polls (pg-boss minimum 0.5 s). Jobs sent from this hub start at once anyway. */
  pollingIntervalSeconds?: number;
  /** Catalog override (tests); default JOB_CATALOG. */
  catalog?: Record<string, JobDefinition<z.ZodType>>;
}

/**
 * The hub's background jobs: pg-boss 10 in the hub's Postgres (schema `pgboss`, created on first start).
 * `send` validates payloads against the catalog; `startWorkers` runs every catalog handler.
 */
export class JobQueue implements JobSender {
  private readonly boss: PgBoss;
  private readonly catalog: Record<string, JobDefinition<z.ZodType>>;
  private readonly stopping = new AbortController();
  private readonly workerIds = new Map<string, string[]>();
  private started: Promise<void> | undefined;
  private bossStarted = false;
  private workersStarting: Promise<void> | undefined;

  constructor(private readonly options: JobQueueOptions) {
    this.catalog = options.catalog ?? JOB_CATALOG;
    const scheduled = Object.values(this.catalog).some((job) => job.schedule);
    this.boss = new PgBoss({
      db: { executeSql: (text, values) => options.executeSql(text, values) },
      // Cron timers only where something is scheduled and this hub runs workers; maintenance (expiry → retry) always.
      schedule: scheduled && options.workers !== false,
    });
    this.boss.on('error', (err) =>
      isAdminShutdown(err)
        ? options.logger.info('the database is shutting down; the job queue retries')
        : options.logger.error({ err }, 'job queue error'),
    );
  }

  /** Installs pg-boss's schema when missing and creates one queue per catalog entry. Safe to call twice. */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.boss.start();
      this.bossStarted = true;
      for (const job of Object.values(this.catalog)) {
        if (job.onExhausted)
          await this.boss.createQueue(exhaustedQueue(job.name), { name: exhaustedQueue(job.name), retryLimit: 2 });
        await this.boss.createQueue(job.name, {
          name: job.name,
          retryLimit: job.retry.limit,
          retryDelay: job.retry.delaySeconds,
          retryBackoff: job.retry.backoff,
          expireInSeconds: job.expireInSeconds,
          ...(job.onExhausted ? { deadLetter: exhaustedQueue(job.name) } : {}),
        });
      }
    })();
    // A failed start (database down) is tried again by the next caller.
    this.started.catch(() => (this.started = undefined));
    return this.started;
  }

  async send<N extends JobName>(name: N, payload: JobPayload<N>): Promise<string> {
    const job = this.definition(name);
    const data = job.payload.parse(payload) as object;
    await this.start();
    const id = await this.boss.send(name, data, {
      retryLimit: job.retry.limit,
      retryDelay: job.retry.delaySeconds,
      retryBackoff: job.retry.backoff,
      expireInSeconds: job.expireInSeconds,
      ...(job.onExhausted ? { deadLetter: exhaustedQueue(job.name) } : {}),
    });
    if (!id) throw new Error(`job queue refused a ${name} job`);
    // Wake this hub's idle workers now instead of at their next poll.
    for (const workerId of this.workerIds.get(name) ?? []) this.boss.notifyWorker(workerId);
    return id;
  }

  /** Starts `concurrency` workers per catalog job, each running one job at a time. */
  async startWorkers(services: Services): Promise<void> {
    if (this.options.workers === false) return;
    await this.start();
    for (const job of Object.values(this.catalog)) {
      const ids: string[] = [];
      for (let i = 0; i < job.concurrency; i++) {
        ids.push(
          await this.boss.work<unknown>(
            job.name,
            { includeMetadata: true, batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 2 },
            async ([received]) => {
              if (received) await this.run(job, received, services);
            },
          ),
        );
      }
      this.workerIds.set(job.name, ids);
      if (job.schedule) {
        await this.boss.schedule(job.name, job.schedule.cron, job.payload.parse(job.schedule.payload) as object, {
          retryLimit: job.retry.limit,
          expireInSeconds: job.expireInSeconds,
        });
      }
      const onExhausted = job.onExhausted;
      if (onExhausted) {
        await this.boss.work<unknown>(
          exhaustedQueue(job.name),
          { batchSize: 1, pollingIntervalSeconds: this.options.pollingIntervalSeconds ?? 2 },
          async ([received]) => {
            if (!received) return;
            const logger = this.options.logger.child({ job: exhaustedQueue(job.name), jobId: received.id });
            const parsed = job.payload.safeParse(received.data);
            if (!parsed.success)
              return logger.error({ issues: parsed.error.issues }, 'exhausted job payload does not match its schema');
            logger.warn('job exhausted its attempts');
            try {
              await onExhausted(parsed.data, { services, logger, jobId: received.id, signal: this.stopping.signal });
            } catch (err) {
              logger.error({ err }, 'recording an exhausted job failed');
              throw storableJobError(err);
            }
          },
        );
      }
    }
  }

  /**
   * startWorkers without holding up the hub: while the database is unreachable it logs and tries again every
   * `retryMs`, so a hub started before its database still comes up (and /healthz says what is wrong).
   */
  startWorkersInBackground(services: Services, retryMs = 5000): void {
    if (this.options.workers === false || this.workersStarting) return;
    this.workersStarting = (async () => {
      while (!this.stopping.signal.aborted) {
        try {
          await this.startWorkers(services);
          return;
        } catch (err) {
          this.options.logger.warn({ err }, `job workers could not start; retrying in ${retryMs / 1000} s`);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, retryMs);
            this.stopping.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
          });
        }
      }
    })();
  }

  /** Aborts running handlers (they are retried later), then stops pg-boss. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('the hub is stopping'));
    await this.workersStarting;
    await this.started?.catch(() => undefined);
    if (this.bossStarted) await this.boss.stop({ graceful: true, close: false, wait: true, timeout: 10_000 });
  }

  private async run(
    job: JobDefinition<z.ZodType>,
    received: PgBoss.JobWithMetadata<unknown>,
    services: Services,
  ): Promise<void> {
    const logger = this.options.logger.child({ job: job.name, jobId: received.id, retryCount: received.retryCount });
    const parsed = job.payload.safeParse(received.data);
    if (!parsed.success) {
      // A payload that no longer parses never will: fail without retries piling up.
      logger.error({ issues: parsed.error.issues }, 'job payload does not match its schema');
      throw new Error(`invalid ${job.name} payload: ${parsed.error.message}`);
    }
    const started = Date.now();
    try {
      await job.handler(parsed.data, {
        services,
        logger,
        jobId: received.id,
        retryCount: received.retryCount,
        finalAttempt: received.retryCount >= received.retryLimit,
        signal: this.stopping.signal,
      });
      logger.info({ ms: Date.now() - started }, 'job done');
    } catch (err) {
      logger.warn({ err, ms: Date.now() - started }, 'job failed');
      throw storableJobError(err);
    }
  }

  private definition(name: string): JobDefinition<z.ZodType> {
    const job = this.catalog[name];
    if (!job) throw new Error(`unknown job "${name}"`);
    return job;
  }
}

/**
 * pg-boss stores a failed job's error (every own property, `cause` included, serialised) as jsonb, and does not
 * await that write: an error carrying text Postgres refuses (a NUL byte from a receiver's reply or a caption in a
 * driver error's parameters) made the write fail as an unhandled rejection, and the job stay active. So only a
 * sanitised, bounded message is handed over; the full error is in the log line above.
 */
export function storableJobError(err: unknown): Error {
  const message = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
  return new Error(sanitizeText(message).slice(0, 2000));
}

/** The dead-letter queue of a job whose definition has onExhausted. */
export const exhaustedQueue = (name: string) => `${name}.exhausted`;
