import pg from 'pg';
import type { Logger } from 'pino';
import { PgListener } from '../../pg-listener.ts';
import { PubSub } from '../../pubsub.ts';

/** Postgres channel all hub instances LISTEN on; payloads are small JSON (Postgres caps them at 8000 bytes). */
export const RUNS_CHANNEL = 'dapple_runs';

export type RunSignal =
  { kind: 'updated'; runId: string } | { kind: 'metrics'; runId: string; fromStep: number; toStep: number };

export const runUpdatedChannel = (runId: string) => `run:${runId}:updated`;
export const runMetricsChannel = (runId: string) => `run:${runId}:metrics`;

/**
 * Cross-instance run events: services NOTIFY after their transaction commits; one dedicated
 * connection per hub LISTENs and republishes into an in-process PubSub that feeds subscriptions,
 * so a browser on hub A sees a trainer's report that arrived at hub B.
 */
export class RunSignals {
  readonly pubsub = new PubSub<RunSignal>();
  private readonly listener: PgListener;
  private log: Logger | undefined;
  private readonly updateListeners = new Set<(runId: string) => void>();

  /** Called for every run change seen by any hub (through LISTEN), e.g. to drop cached token checks. */
  onRunUpdated(listener: (runId: string) => void): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  constructor(private readonly pool: pg.Pool) {
    this.listener = new PgListener({
      pool,
      channel: RUNS_CHANNEL,
      name: 'dapple-hub-listen',
      log: () => this.log,
      onMessage: (message) => {
        const signal = message as RunSignal;
        if (signal.kind === 'updated') for (const listener of this.updateListeners) listener(signal.runId);
        this.pubsub.publish(
          signal.kind === 'updated' ? runUpdatedChannel(signal.runId) : runMetricsChannel(signal.runId),
          signal,
        );
      },
    });
  }

  /**
   * Opens the LISTEN connection (same database settings as the pool). The hub must come up (and say 503
   * on /healthz) while the database is away: the listener keeps trying in the background.
   */
  async start(log?: Logger): Promise<void> {
    if (log) this.log = log;
    await this.listener.start();
  }

  /** NOTIFY every instance (this one included, through its own LISTEN). Call after the transaction committed. */
  async notify(signal: RunSignal): Promise<void> {
    // This hub's own listeners run at once (e.g. a revoked token must stop working before the reply);
    // other hubs hear it through LISTEN a moment later.
    if (signal.kind === 'updated') for (const listener of this.updateListeners) listener(signal.runId);
    try {
      await this.pool.query('SELECT pg_notify($1, $2)', [RUNS_CHANNEL, JSON.stringify(signal)]);
    } catch (err) {
      // A lost notification only delays a live view; the data is committed.
      this.log?.warn({ err, signal }, 'could not send run notification');
    }
  }

  private readonly pendingMetrics = new Map<string, { fromStep: number; toStep: number }>();
  private metricsTimer: NodeJS.Timeout | undefined;

  /**
   * Metric notifications are coalesced per run over ~100 ms: 20 trainers sending batches concurrently
   * cost a few NOTIFYs, not one per batch, and a chart still updates within a fraction of a second.
   */
  notifyMetricsSoon(runId: string, fromStep: number, toStep: number): void {
    const pending = this.pendingMetrics.get(runId);
    this.pendingMetrics.set(
      runId,
      pending
        ? { fromStep: Math.min(pending.fromStep, fromStep), toStep: Math.max(pending.toStep, toStep) }
        : { fromStep, toStep },
    );
    this.metricsTimer ??= setTimeout(() => void this.flushMetrics(), 100);
  }

  private async flushMetrics(): Promise<void> {
    this.metricsTimer = undefined;
    const payloads = [...this.pendingMetrics].map(([runId, r]) =>
      JSON.stringify({ kind: 'metrics', runId, ...r } satisfies RunSignal),
    );
    this.pendingMetrics.clear();
    if (payloads.length === 0) return;
    // One statement for every run's signal: a NOTIFY commits a transaction (and waits for its WAL flush),
    // so one per run per flush was as many commits as there were metric batches under load.
    try {
      await this.pool.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [
        RUNS_CHANNEL,
        payloads,
      ]);
    } catch (err) {
      this.log?.warn({ err, runs: payloads.length }, 'could not send metric notifications');
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.metricsTimer);
    if (this.pendingMetrics.size > 0) await this.flushMetrics();
    await this.listener.close();
  }
}
