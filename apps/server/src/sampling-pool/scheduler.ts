import { and, eq, inArray } from 'drizzle-orm';
import { sampleJobs, type Db, type SampleJob } from '@dapple/db';
import type { ObjectStore } from '@dapple/storage';
import type { Logger } from 'pino';
import { FairQueue } from './fair-queue.ts';
import { SamplingError, SamplingPool, type SamplingPoolOptions, type TaskResult } from './pool.ts';
import type { EvaluateTask, EvaluationResult, ModelRef, ProgressListener, TaskRequest } from './protocol.ts';
import { evaluationChannel, sampleJobChannel, type SamplingSignals } from './signals.ts';

/** What one share link may ask of its team's sampling; checked by services/sampling/share-link-quota.ts. */
export interface ShareLinkQuota {
  /** Jobs of one share link queued or running at once (all hubs); env DAPPLE_SHARE_LINK_MAX_ACTIVE_JOBS. */
  maxActiveJobs: number;
  /** Jobs one share link may start per rolling hour; env DAPPLE_SHARE_LINK_JOBS_PER_HOUR. */
  maxJobsPerHour: number;
}

export const DEFAULT_SHARE_LINK_QUOTA: ShareLinkQuota = { maxActiveJobs: 2, maxJobsPerHour: 30 };

export interface SamplingConfig {
  /** Worker threads; each runs one job at a time. */
  workers: number;
  /** Jobs of one team running at once (over all workers of this hub). */
  perTeamConcurrency: number;
  /** Loaded models kept per worker (LRU)… */
  maxModelsPerWorker: number;
  /** …and the float32 parameter bytes they may take together. */
  maxParamBytesPerWorker: number;
  backend?: SamplingPoolOptions['backend'];
  /** Least time between progress writes (row update + NOTIFY) of one job. */
  progressIntervalMs: number;
  /** Jobs one team may have waiting in this hub's queue; more are refused (RATE_LIMITED). */
  maxQueuedPerTeam: number;
  /** How often a hub looks for sample jobs of hubs that died, to run them itself. */
  adoptIntervalMs: number;
  /** What one share link may ask of its team's sampling (services/sampling/share-link-quota.ts). */
  shareLinkQuota: ShareLinkQuota;
}

export const DEFAULT_SAMPLING_CONFIG: SamplingConfig = {
  workers: 1,
  perTeamConcurrency: 2,
  maxModelsPerWorker: 4,
  maxParamBytesPerWorker: 512 * 1024 * 1024,
  progressIntervalMs: 500,
  maxQueuedPerTeam: 50,
  adoptIntervalMs: 30_000,
  shareLinkQuota: DEFAULT_SHARE_LINK_QUOTA,
};

interface SamplePending {
  kind?: 'sample';
  id: string;
  teamId: string;
  job: SampleJob;
  model: ModelRef;
  request: TaskRequest;
  /** Where the PNGs go: `<version objectPrefix>samples/<jobId>/`. */
  resultPrefix: string;
}

/** An evaluation waits in the same fair queue as sample jobs and then holds one worker until it is done. */
interface EvaluationPending {
  kind: 'evaluate';
  id: string;
  teamId: string;
  model: ModelRef;
  task: EvaluateTask;
  /**
   * Called when it leaves the queue for a worker (the row turns RUNNING then, not before); false when the row was
   * cancelled meanwhile (through another hub), and the evaluation does not start.
   */
  onStart?: () => Promise<boolean>;
  onProgress: ProgressListener;
  resolve: (r: EvaluationResult) => void;
  reject: (e: Error) => void;
}

type Pending = SamplePending | EvaluationPending;

/** Key of image i of a job; zero-padded so listings sort in image order. */
export const sampleImageKey = (prefix: string, index: number) => `${prefix}${String(index).padStart(3, '0')}.png`;

/**
 * Runs this hub's sample jobs on its worker pool: fair across teams (round-robin, FIFO within a team,
 * per-team concurrency limit), with progress written to the job row and NOTIFYed. The pool starts on
 * the first job, so a hub that never samples starts no threads.
 */
export class SampleScheduler {
  private readonly queue: FairQueue<Pending>;
  private pool: SamplingPool | null = null;
  private closed = false;
  private readonly running = new Set<Promise<void>>();
  /** Ids of jobs running here. */
  private readonly active = new Set<string>();
  /** Stops a running sample job's or evaluation's worker (cancelSampleJob, cancelEvaluation). */
  private readonly aborts = new Map<string, AbortController>();
  /** Stops listening for a job's cancel from another hub (watchForCancel), per job queued or running here. */
  private readonly watches = new Map<string, () => void>();
  /** Ids in the order they started (tests and the bench read it to check fairness). */
  readonly startOrder: string[] = [];
  /** Per-job timings of finished jobs (bench). */
  readonly timings = new Map<string, TaskResult['timing']>();
  /** Ids of evaluations whose worker finished them (tests: a cancelled one's stopped instead). */
  readonly evaluated = new Set<string>();

  constructor(
    private readonly deps: { db: Db; now: () => Date; store: ObjectStore; signals: SamplingSignals; log?: Logger },
    readonly config: SamplingConfig,
  ) {
    this.queue = new FairQueue(config.perTeamConcurrency);
  }

  /** Queues a job (its row already inserted as 'queued'). */
  submit(p: SamplePending): void {
    if (this.closed) throw new Error('the sampling scheduler is closed');
    this.enqueue(p);
  }

  /** Queues an evaluation behind other teams' work (fairly) and resolves with its numbers. */
  evaluate(p: Omit<EvaluationPending, 'kind' | 'resolve' | 'reject'>): Promise<EvaluationResult> {
    if (this.closed) return Promise.reject(new Error('the sampling scheduler is closed'));
    return new Promise((resolve, reject) => this.enqueue({ ...p, kind: 'evaluate', resolve, reject }));
  }

  /** Queues a job, watched for a cancel from any hub from now until it ends or leaves the queue. */
  private enqueue(p: Pending): void {
    this.watches.set(p.id, this.watchForCancel(p));
    this.queue.push(p);
    this.pump();
  }

  private unwatch(id: string): void {
    this.watches.get(id)?.();
    this.watches.delete(id);
  }

  /**
   * Stops a sample job or evaluation this hub queues or runs, after its row was set to 'cancelled': a queued one
   * leaves the queue (an evaluation's promise rejects), a running one's worker stops between denoising steps (or
   * extractor batches). A cancel made on another hub arrives here by its notification (watchForCancel).
   */
  cancel(jobId: string): void {
    const waiting = this.queue.remove(jobId);
    if (waiting?.kind === 'evaluate') waiting.reject(new SamplingError('cancelled'));
    if (waiting) {
      this.unwatch(jobId);
      return this.notifyQueuePositions();
    }
    this.aborts.get(jobId)?.abort();
  }

  /** 0-based place in this hub's queue (0 = starts next), or null when not queued here. */
  position(jobId: string): number | null {
    return this.queue.position(jobId);
  }

  /** True while this hub has the job queued or running (its row may still say 'queued' for a moment). */
  owns(jobId: string): boolean {
    return this.active.has(jobId) || this.queue.position(jobId) !== null;
  }

  /** True once close() started: work failing now failed because the hub stops, not on its own. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Jobs the team has waiting here. */
  queuedFor(teamId: string): number {
    return this.queue.queuedFor(teamId);
  }

  get queued(): number {
    return this.queue.size;
  }

  /** The pool, started on demand. */
  poolNow(): SamplingPool {
    return (this.pool ??= new SamplingPool({
      size: this.config.workers,
      store: this.deps.store,
      maxModels: this.config.maxModelsPerWorker,
      maxParamBytes: this.config.maxParamBytesPerWorker,
      ...(this.config.backend ? { backend: this.config.backend } : {}),
    }));
  }

  /** Resolves when nothing is queued or running (tests, bench). */
  async idle(): Promise<void> {
    while (this.running.size || this.queue.size)
      await Promise.race([...this.running, new Promise((r) => setTimeout(r, 50))]);
  }

  async close(): Promise<void> {
    this.closed = true;
    // Work still waiting here would never run: evaluations are rejected (their job is retried by the next
    // hub), sample jobs are marked failed so nobody waits on them forever.
    const abandoned: string[] = [...this.active];
    for (const id of [...this.watches.keys()]) this.unwatch(id);
    for (const p of this.queue.order()) {
      this.queue.remove(p.id);
      if (p.kind === 'evaluate') p.reject(new Error('the hub is stopping'));
      else abandoned.push(p.id);
    }
    await this.pool?.close();
    await Promise.allSettled([...this.running]);
    if (abandoned.length) {
      await this.deps.db
        .update(sampleJobs)
        .set({
          status: 'failed',
          error: 'The hub stopped before this job finished; generate the samples again',
          finishedAt: this.deps.now(),
        })
        .where(and(inArray(sampleJobs.id, abandoned), inArray(sampleJobs.status, ['queued', 'running'])))
        .catch((err: unknown) => this.deps.log?.warn({ err }, 'could not mark abandoned sample jobs failed'));
      for (const id of abandoned) await this.deps.signals.notify({ kind: 'sampleJob', id });
    }
  }

  /** Everyone still queued moved up a place: their subscribers hear it. */
  private notifyQueuePositions(): void {
    for (const p of this.queue.order())
      void this.deps.signals.notify(
        p.kind === 'evaluate' ? { kind: 'evaluation', id: p.id } : { kind: 'sampleJob', id: p.id },
      );
  }

  private pump(): void {
    if (this.closed) return;
    const pool = this.poolNow();
    // Each run in flight holds (or is about to take) one worker.
    while (this.running.size < pool.size) {
      const next = this.queue.take();
      if (!next) return;
      this.startOrder.push(next.id);
      this.active.add(next.id);
      const run = this.run(pool, next).finally(() => {
        this.running.delete(run);
        this.active.delete(next.id);
        this.queue.done(next.teamId);
        this.notifyQueuePositions();
        this.pump();
      });
      this.running.add(run);
    }
  }

  private async run(pool: SamplingPool, p: Pending): Promise<void> {
    try {
      await (p.kind === 'evaluate' ? this.runEvaluation(pool, p) : this.runSampleJob(pool, p));
    } finally {
      this.unwatch(p.id);
    }
  }

  /**
   * Stops the job here as soon as a cancel on any hub says so (its NOTIFY carries `cancelled`); were that
   * notification lost, the job's next progress write finds its row no longer running and stops it too.
   */
  private watchForCancel(p: Pending): () => void {
    const { signals, log } = this.deps;
    void signals.listen().catch((err: unknown) => log?.warn({ err }, 'could not listen for cancellations'));
    const channel = p.kind === 'evaluate' ? evaluationChannel(p.id) : sampleJobChannel(p.id);
    return signals.pubsub.on(channel, (signal) => {
      if (signal.cancelled) this.cancel(p.id);
    });
  }

  private async runEvaluation(pool: SamplingPool, p: EvaluationPending): Promise<void> {
    const abort = new AbortController();
    this.aborts.set(p.id, abort);
    try {
      if ((await p.onStart?.()) === false) throw new SamplingError('cancelled');
      const result = await pool.evaluate(p.model, p.task, p.onProgress, abort.signal);
      this.evaluated.add(p.id);
      p.resolve(result);
    } catch (err) {
      p.reject(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.aborts.delete(p.id);
    }
  }

  private async runSampleJob(pool: SamplingPool, p: SamplePending): Promise<void> {
    const { db, signals } = this.deps;
    const notify = () => signals.notify({ kind: 'sampleJob', id: p.id });
    // Every write below is conditional on the state we expect: a cancel can land at any moment.
    const running = and(eq(sampleJobs.id, p.id), eq(sampleJobs.status, 'running'));
    const started = await db
      .update(sampleJobs)
      .set({ status: 'running', startedAt: this.deps.now() })
      .where(and(eq(sampleJobs.id, p.id), eq(sampleJobs.status, 'queued')))
      .returning({ id: sampleJobs.id });
    if (!started.length) return; // cancelled while it waited
    await notify();
    const abort = new AbortController();
    this.aborts.set(p.id, abort);
    let lastWrite = 0;
    let writing: Promise<unknown> = Promise.resolve();
    try {
      const result = await pool.run(
        p.model,
        p.request,
        (done, total) => {
          const now = Date.now();
          if (done < total && now - lastWrite < this.config.progressIntervalMs) return;
          lastWrite = now;
          writing = writing.then(async () => {
            const still = await db
              .update(sampleJobs)
              .set({ stepsDone: done, stepsTotal: total })
              .where(running)
              .returning({ id: sampleJobs.id });
            if (!still.length)
              abort.abort(); // cancelled through another hub
            else await notify();
          });
        },
        abort.signal,
      );
      await writing;
      const keys: string[] = [];
      for (const [i, png] of result.pngs.entries()) {
        const key = sampleImageKey(p.resultPrefix, i);
        await this.deps.store.put(key, Buffer.from(png.buffer, png.byteOffset, png.byteLength), {
          size: png.byteLength,
          contentType: 'image/png',
        });
        keys.push(key);
      }
      this.timings.set(p.id, result.timing);
      const finished = await db
        .update(sampleJobs)
        .set({
          status: 'succeeded',
          resultKeys: keys,
          stepsDone: p.request.steps,
          stepsTotal: p.request.steps,
          finishedAt: this.deps.now(),
        })
        .where(running)
        .returning({ id: sampleJobs.id });
      if (!finished.length) await this.deps.store.deletePrefix(p.resultPrefix); // cancelled at the last moment
    } catch (err) {
      await writing.catch(() => undefined);
      if (!abort.signal.aborted) {
        const message = err instanceof Error ? err.message : String(err);
        this.deps.log?.warn({ err, sampleJobId: p.id }, 'sample job failed');
        await db
          .update(sampleJobs)
          .set({ status: 'failed', error: message.slice(0, 2000), finishedAt: this.deps.now() })
          .where(running);
      }
    } finally {
      this.aborts.delete(p.id);
    }
    await notify();
  }
}
