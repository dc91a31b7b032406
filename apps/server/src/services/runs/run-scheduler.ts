import { hostname } from 'node:os';
import { and, asc, desc, eq, inArray, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import { isDatabaseUnavailable, runs, runTokens, type Run } from '@dapple/db';
import type { Logger } from 'pino';
import { randomSecret, sha256Hex } from '../auth/index.ts';
import type { Executor, ExecutorRunState, ExecutorSlot } from '../../executors/types.ts';
import type { TrainerLogFollower } from './log-follower.ts';
import type { RunLogStore } from './logs.ts';
import type { RunSignals } from './signals.ts';
import { lockRun, requeueOrFail, revokeRunTokens, transition } from './state.ts';
import type { ServiceDeps } from '../types.ts';

export interface RunSchedulerOptions {
  /** URL trainers use to reach the hub. */
  hubUrl: string;
  /** A running trainer whose heartbeats stop this long is `lost` (default 60 s). */
  heartbeatTimeoutMs?: number;
  /** Time from `starting` to the first heartbeat (process start, TF.js load, dataset fetch); default 180 s. */
  startTimeoutMs?: number;
  /** How often the queue, the watchdog and the processes are checked (default 1 s). */
  pollMs?: number;
  /** SIGTERM → SIGKILL grace when cancelling (default 30 s). */
  stopGraceMs?: number;
  /** Extra environment for trainers (e.g. DAPPLE_TF_BACKEND). */
  trainerEnv?: Record<string, string>;
  /** Name of this machine; local slots are per machine (default os.hostname()). */
  host?: string;
}

export interface RunSchedulerDeps extends Pick<ServiceDeps, 'db' | 'now'> {
  executor: Executor;
  signals: RunSignals;
  logs: RunLogStore;
  /** Copies trainer output into run_logs while it runs (local: its files, Kubernetes: the pod log); null: none. */
  follower: TrainerLogFollower | null;
  log: Logger;
}

interface Tracked {
  attempt: number;
  handle: string;
}

const ACTIVE = ['starting', 'running', 'cancelling'] as const;

/**
 * The hub's run loop: starts queued runs (FIFO per priority) on free executor slots, stops cancelled
 * ones, notices exits, and marks runs whose heartbeats stopped as lost (re-queued up to max attempts).
 * Safe with several hubs on one database: claims use FOR UPDATE SKIP LOCKED plus a per-host advisory
 * lock around slot allocation.
 */
export class RunScheduler {
  private readonly o: Required<Omit<RunSchedulerOptions, 'trainerEnv'>> & { trainerEnv: Record<string, string> };
  private readonly tracked = new Map<string, Tracked>();
  private readonly stopping = new Set<string>();
  private readonly pendingStops = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private again = false;
  private ticking = false;
  /**
   * Since when this hub has been able to record heartbeats (its database answered every pass since): unset at start
   * and after a failed pass. Trainers' heartbeats sent while the hub or its database was down were lost through no
   * fault of theirs, so nobody is marked lost until the hub has been up a whole heartbeat timeout.
   */
  private recordingSince: Date | undefined;
  private closed = false;
  /** The last pass failed for want of a database (logged once per outage). */
  private databaseDown = false;
  private unsubscribeExit: (() => void) | undefined;
  private recovered: Promise<boolean> = Promise.resolve(false);

  constructor(
    private readonly deps: RunSchedulerDeps,
    opts: RunSchedulerOptions,
  ) {
    this.o = {
      hubUrl: opts.hubUrl,
      heartbeatTimeoutMs: opts.heartbeatTimeoutMs ?? 60_000,
      startTimeoutMs: opts.startTimeoutMs ?? 180_000,
      pollMs: opts.pollMs ?? 1000,
      stopGraceMs: opts.stopGraceMs ?? 30_000,
      trainerEnv: opts.trainerEnv ?? {},
      host: opts.host ?? (deps.executor.kind === 'local' ? hostname() : 'kubernetes'),
    };
  }

  get host(): string {
    return this.o.host;
  }

  /** Re-adopts trainers that survived a hub restart, then runs the loop. */
  async start(): Promise<void> {
    this.unsubscribeExit = this.deps.executor.onExit?.(() => this.kick());
    this.recovered = this.recover().then(
      () => true,
      (err) => {
        this.deps.log.error({ err }, 'could not re-adopt trainers yet (database unreachable?); will retry');
        return false;
      },
    );
    await this.recovered;
    this.timer = setInterval(() => this.kick(), this.o.pollMs);
    this.kick();
  }

  /** Runs a pass soon (coalesced): called on new, cancelled and resumed runs. */
  kick(): void {
    if (this.closed) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    this.running = this.tick()
      .then((ran) => {
        if (!ran) return;
        if (this.databaseDown) this.deps.log.info('the database is reachable again; the scheduler carries on');
        this.databaseDown = false;
      })
      .catch((err) => {
        this.recordingSince = undefined;
        // An outage fails every pass (each pollMs): say so once, and again when it is over.
        if (!isDatabaseUnavailable(err)) this.deps.log.error({ err }, 'scheduler pass failed');
        else if (!this.databaseDown) this.deps.log.warn({ err }, 'the database is unreachable; the scheduler waits');
        this.databaseDown ||= isDatabaseUnavailable(err);
      })
      .finally(() => {
        this.ticking = false;
        if (this.again && !this.closed) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Stops the loop; trainers keep running (a new hub re-adopts them). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.unsubscribeExit?.();
    await this.running;
    await Promise.all(this.pendingStops);
    await this.deps.follower?.close();
    await this.deps.executor.close?.();
  }

  /**
   * For a hub that owns its machine (`npm start`): stop every trainer this hub runs, gracefully (SIGTERM: the
   * trainer saves a checkpoint and exits), and re-queue their runs so the next start resumes them from that
   * checkpoint. Without this, Ctrl-C would leave trainers training on, reporting to a hub that is gone.
   */
  async suspendTrainers(graceMs = this.o.stopGraceMs): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
    const held = [...this.tracked];
    await Promise.all(held.map(([, t]) => this.deps.executor.stop(t.handle, graceMs)));
    for (const [runId, t] of held) {
      await this.onProcessExit(
        runId,
        t.attempt,
        'the hub was stopped; the run resumes from its last checkpoint when the hub starts again',
        'requeue',
      );
    }
  }

  /** False when it could not run yet (trainers of a previous hub not re-adopted). */
  private async tick(): Promise<boolean> {
    // Nothing may start before the trainers of a previous hub are re-adopted (they hold slots).
    if (!(await this.recovered)) {
      this.recovered = this.recover().then(
        () => true,
        () => false,
      );
      if (!(await this.recovered)) return false;
    }
    await this.watchdog();
    await this.checkProcesses();
    await this.stopCancelled();
    await this.startQueued();
    return true;
  }

  private async recover(): Promise<void> {
    const mine = await this.deps.db
      .select()
      .from(runs)
      .where(
        and(
          inArray(runs.status, ACTIVE),
          eq(runs.executor, this.deps.executor.kind),
          eq(runs.executorHost, this.o.host),
        ),
      );
    for (const run of mine) {
      if (!run.executorHandle) continue; // the watchdog's start timeout handles a start that never got a process
      const state = await this.deps.executor.state(run.executorHandle, run.id);
      this.tracked.set(run.id, { attempt: run.attempt, handle: run.executorHandle });
      // Followed either way: an exit while the hub was down leaves output to read (onProcessExit reads it).
      await this.deps.follower?.watch(run.id, run.attempt, run.executorHandle);
      if (state.state === 'running') {
        this.deps.log.info({ runId: run.id, handle: run.executorHandle }, 're-adopted a running trainer');
      } else {
        // Why it ended is unknown (the hub was down): treat it like a lost trainer and retry from the checkpoint.
        await this.onProcessExit(run.id, run.attempt, 'the trainer process was gone when the hub restarted', 'requeue');
      }
    }
  }

  private async watchdog(): Promise<void> {
    const now = this.deps.now();
    this.recordingSince ??= now;
    if (now.getTime() - this.recordingSince.getTime() < this.o.heartbeatTimeoutMs) return;
    const hbCutoff = new Date(now.getTime() - this.o.heartbeatTimeoutMs);
    const startCutoff = new Date(now.getTime() - this.o.startTimeoutMs);
    const silent = and(
      inArray(runs.status, ACTIVE),
      or(
        and(isNotNull(runs.lastHeartbeatAt), lt(runs.lastHeartbeatAt, hbCutoff)),
        and(isNull(runs.lastHeartbeatAt), lt(runs.startedAt, startCutoff)),
      ),
    );
    const stale = await this.deps.db.select().from(runs).where(silent);
    for (const run of stale) {
      // Kill first: a stalled (e.g. SIGSTOPped) process must not wake up beside its replacement.
      if (run.executorHandle && run.executorHost === this.o.host && run.executor === this.deps.executor.kind) {
        await this.deps.executor.stop(run.executorHandle, 0);
      }
      const seconds = Math.round((run.lastHeartbeatAt ? this.o.heartbeatTimeoutMs : this.o.startTimeoutMs) / 1000);
      const reason = run.lastHeartbeatAt
        ? `no heartbeat from the trainer for ${seconds} s`
        : `the trainer did not report within ${seconds} s of starting`;
      const changed = await this.deps.db.transaction(async (tx) => {
        const locked = await lockRun(tx, run.id);
        if (!locked || locked.attempt !== run.attempt || !ACTIVE.includes(locked.status as (typeof ACTIVE)[number]))
          return false;
        if (locked.status === 'cancelling') {
          await revokeRunTokens(tx, locked.id, now);
          await transition(tx, locked, 'cancelled', `cancelled (${reason})`, { finishedAt: now });
        } else {
          await requeueOrFail(tx, locked, reason, now);
        }
        return true;
      });
      if (changed) {
        this.deps.log.warn({ runId: run.id, attempt: run.attempt }, reason);
        await this.untrack(run.id, run.attempt);
        await this.deps.signals.notify({ kind: 'updated', runId: run.id });
      }
    }
  }

  /** Exits of trainers this hub started or adopted. */
  private async checkProcesses(): Promise<void> {
    for (const [runId, t] of [...this.tracked]) {
      const state = await this.deps.executor.state(t.handle, runId);
      if (state.state !== 'running') await this.onProcessExit(runId, t.attempt, describeExit(state));
    }
  }

  /**
   * A trainer process ended. Ended through the trainer API (finish): nothing to do. Cancelling: cancelled.
   * Otherwise it died without reporting: `failed` with its last log lines (kill -9, crash, OOM), or for
   * an exit nobody saw (during a hub restart) lost → re-queued while attempts remain.
   */
  private async onProcessExit(
    runId: string,
    attempt: number,
    how: string,
    policy: 'fail' | 'requeue' = 'fail',
  ): Promise<void> {
    await this.untrack(runId, attempt);
    const now = this.deps.now();
    const tail = await this.deps.logs.tail(runId, 20);
    const lastLines = tail.filter((l) => l.attempt === attempt).map((l) => l.line);
    await this.deps.db.transaction(async (tx) => {
      const run = await lockRun(tx, runId);
      // Ended through the trainer API (finish) or superseded: nothing to do.
      if (!run || run.attempt !== attempt || !ACTIVE.includes(run.status as (typeof ACTIVE)[number])) return false;
      await revokeRunTokens(tx, runId, now);
      const detached = { executorHandle: null, finishedAt: now };
      if (run.status === 'cancelling') {
        await transition(tx, run, 'cancelled', `cancelled; ${how}`, detached);
      } else if (policy === 'requeue') {
        await requeueOrFail(tx, run, how, now);
      } else {
        const error = [
          `${how} before finishing (step ${run.step} of ${run.totalSteps})`,
          ...(lastLines.length ? ['last log lines:', ...lastLines] : []),
        ].join('\n');
        await transition(tx, run, 'failed', how, { ...detached, error });
      }
      return true;
    });
    // Even when the status did not change here (the trainer had finished through the API), untrack just stored the
    // attempt's last output lines: tell the run page so it re-reads the logs without a reload.
    await this.deps.signals.notify({ kind: 'updated', runId });
  }

  private async untrack(runId: string, attempt: number): Promise<void> {
    const t = this.tracked.get(runId);
    if (t && t.attempt === attempt) this.tracked.delete(runId);
    this.stopping.delete(runId);
    await this.deps.follower?.unwatch(runId, attempt);
  }

  private async stopCancelled(): Promise<void> {
    const cancelling = await this.deps.db
      .select()
      .from(runs)
      .where(
        and(
          eq(runs.status, 'cancelling'),
          eq(runs.executorHost, this.o.host),
          eq(runs.executor, this.deps.executor.kind),
          isNotNull(runs.executorHandle),
        ),
      );
    for (const run of cancelling) {
      if (this.stopping.has(run.id)) continue;
      this.stopping.add(run.id);
      this.deps.log.info({ runId: run.id }, 'stopping a cancelled run');
      const p = this.deps.executor
        .stop(run.executorHandle!, this.o.stopGraceMs)
        .catch((err) => this.deps.log.error({ err, runId: run.id }, 'could not stop a trainer'))
        .finally(() => {
          this.pendingStops.delete(p);
          this.kick();
        });
      this.pendingStops.add(p);
    }
  }

  private async startQueued(): Promise<void> {
    const slots = await this.deps.executor.slots();
    for (;;) {
      const claim = await this.claim(slots);
      if (!claim) return;
      const { run, token, slot } = claim;
      await this.deps.signals.notify({ kind: 'updated', runId: run.id });
      try {
        const launched = await this.deps.executor.start({
          runId: run.id,
          attempt: run.attempt,
          hubUrl: this.o.hubUrl,
          runToken: token,
          slot,
          env: this.o.trainerEnv,
        });
        await this.deps.db
          .update(runs)
          .set({ executorHandle: launched.handle })
          .where(and(eq(runs.id, run.id), eq(runs.attempt, run.attempt)));
        this.tracked.set(run.id, { attempt: run.attempt, handle: launched.handle });
        await this.deps.follower?.watch(run.id, run.attempt, launched.handle);
        this.deps.log.info(
          { runId: run.id, attempt: run.attempt, slot: slot.id, handle: launched.handle },
          'trainer started',
        );
      } catch (err) {
        this.deps.log.error({ err, runId: run.id }, 'could not start a trainer');
        await this.deps.db.transaction(async (tx) => {
          const locked = await lockRun(tx, run.id);
          if (!locked || locked.attempt !== run.attempt || locked.status !== 'starting') return;
          await revokeRunTokens(tx, run.id, this.deps.now());
          await transition(tx, locked, 'failed', 'the executor could not start the trainer', {
            finishedAt: this.deps.now(),
            error: `could not start the trainer: ${(err as Error).message}`,
          });
        });
      }
      await this.deps.signals.notify({ kind: 'updated', runId: run.id });
    }
  }

  /** Takes the first queued run (priority, then FIFO) for a free slot, atomically across hubs. */
  private async claim(slots: ExecutorSlot[]): Promise<{ run: Run; token: string; slot: ExecutorSlot } | null> {
    return this.deps.db.transaction(async (tx) => {
      await tx.execute(
        sql`SELECT pg_advisory_xact_lock(hashtext(${`dapple-scheduler:${this.deps.executor.kind}:${this.o.host}`}))`,
      );
      const busy = await tx
        .select({ slot: runs.executorSlot })
        .from(runs)
        .where(
          and(
            inArray(runs.status, ACTIVE),
            eq(runs.executor, this.deps.executor.kind),
            eq(runs.executorHost, this.o.host),
          ),
        );
      const slot = slots.find((s) => !busy.some((b) => b.slot === s.id));
      if (!slot) return null;
      const [run] = await tx
        .select()
        .from(runs)
        .where(eq(runs.status, 'queued'))
        .orderBy(desc(runs.priority), asc(runs.queuedAt), asc(runs.id))
        .limit(1)
        .for('update', { skipLocked: true });
      if (!run) return null;
      const token = randomSecret();
      const attempt = run.attempt + 1;
      await tx.insert(runTokens).values({ runId: run.id, attempt, tokenHash: sha256Hex(token) });
      const started = await transition(
        tx,
        run,
        'starting',
        `attempt ${attempt} starting on ${this.deps.executor.kind} slot ${slot.id}`,
        {
          attempt,
          executor: this.deps.executor.kind,
          executorSlot: slot.id,
          executorHost: this.o.host,
          executorHandle: null,
          startedAt: this.deps.now(),
          lastHeartbeatAt: null,
          imagesPerSec: null,
        },
      );
      return { run: started, token, slot };
    });
  }
}

function describeExit(state: ExecutorRunState): string {
  if (state.state !== 'exited') return 'the trainer process could not be found';
  if (state.signal) return `the trainer was killed by ${state.signal}`;
  if (state.exitCode === null)
    return 'the trainer process exited (exit code unknown: it was started by an earlier hub)';
  return `the trainer exited with code ${state.exitCode}`;
}
