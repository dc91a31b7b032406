import pg from 'pg';
import type { Logger } from 'pino';
import { PubSub } from '../pubsub.ts';

/** Postgres channel all hub instances LISTEN on; payloads are small JSON (Postgres caps them at 8000 bytes). */
export const RUNS_CHANNEL = 'dapple_runs';

export type RunSignal = { kind: 'updated'; runId: string } | { kind: 'metrics'; runId: string; fromStep: number; toStep: number };

export const runUpdatedChannel = (runId: string) => `run:${runId}:updated`;
export const runMetricsChannel = (runId: string) => `run:${runId}:metrics`;

/**
 * Cross-instance run events: services NOTIFY after their transaction commits; one dedicated
 * connection per hub LISTENs and republishes into an in-process PubSub that feeds subscriptions,
 * so a browser on hub A sees a trainer's report that arrived at hub B.
 */
export class RunSignals {
  readonly pubsub = new PubSub<RunSignal>();
  private client: pg.Client | null = null;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  private log: Logger | undefined;
  private readonly updateListeners = new Set<(runId: string) => void>();

  /** Called for every run change seen by any hub (through LISTEN), e.g. to drop cached token checks. */
  onRunUpdated(listener: (runId: string) => void): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  constructor(private readonly pool: pg.Pool) {}

  /** Opens the LISTEN connection (same database settings as the pool). */
  async start(log?: Logger): Promise<void> {
    if (log) this.log = log;
    const client = new pg.Client({ ...this.pool.options, application_name: 'dapple-hub-listen' });
    client.on('notification', (msg) => {
      if (msg.channel !== RUNS_CHANNEL || !msg.payload) return;
      try {
        const signal = JSON.parse(msg.payload) as RunSignal;
        if (signal.kind === 'updated') for (const listener of this.updateListeners) listener(signal.runId);
        this.pubsub.publish(signal.kind === 'updated' ? runUpdatedChannel(signal.runId) : runMetricsChannel(signal.runId), signal);
      } catch (err) {
        this.log?.warn({ err }, 'ignoring malformed run notification');
      }
    });
    client.on('error', (err) => {
      this.log?.warn({ err }, 'run notification listener lost its connection; reconnecting');
      this.reconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${RUNS_CHANNEL}`);
    } catch (err) {
      // The hub must come up (and say 503 on /healthz) while the database is away: keep trying.
      this.log?.warn({ err }, 'run notification listener could not connect; retrying');
      this.client = client;
      this.reconnect();
      return;
    }
    this.client = client;
  }

  private reconnect(): void {
    const old = this.client;
    this.client = null;
    void old?.end().catch(() => {});
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed) this.start().catch(() => this.reconnect());
    }, 1000);
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
    this.pendingMetrics.set(runId, pending ? { fromStep: Math.min(pending.fromStep, fromStep), toStep: Math.max(pending.toStep, toStep) } : { fromStep, toStep });
    this.metricsTimer ??= setTimeout(() => void this.flushMetrics(), 100);
  }

  private async flushMetrics(): Promise<void> {
    this.metricsTimer = undefined;
    const payloads = [...this.pendingMetrics].map(([runId, r]) => JSON.stringify({ kind: 'metrics', runId, ...r } satisfies RunSignal));
    this.pendingMetrics.clear();
    if (payloads.length === 0) return;
    // One statement for every run's signal: a NOTIFY commits a transaction (and waits for its WAL flush),
    // so one per run per flush was as many commits as there were metric batches under load.
    try {
      await this.pool.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [RUNS_CHANNEL, payloads]);
    } catch (err) {
      this.log?.warn({ err, runs: payloads.length }, 'could not send metric notifications');
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.metricsTimer);
    if (this.pendingMetrics.size > 0) await this.flushMetrics();
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
