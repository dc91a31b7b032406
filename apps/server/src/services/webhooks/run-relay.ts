import pg from 'pg';
import { eq } from 'drizzle-orm';
import { isAdminShutdown, runEvents, runs, type WebhookEvent } from '@dapple/db';
import type { Logger } from 'pino';
import type { ServiceDeps } from '../types.ts';
import type { WebhookEmitter } from './webhooks.ts';

/**
 * Postgres channel of run status changes for webhooks. A trigger on run_events (migration
 * 0006_run_event_webhooks) NOTIFYs it for every transition to running, succeeded, failed or cancelled;
 * Postgres delivers NOTIFY only when the transaction commits, so rolled-back transitions never fire. This
 * way every place that changes a run's status (trainer API, scheduler, cancel) fires webhooks without
 * knowing about them.
 */
export const RUN_WEBHOOK_CHANNEL = 'dapple_run_webhooks';

const EVENT_FOR_STATUS: Record<string, WebhookEvent> = {
  running: 'run.started',
  succeeded: 'run.finished',
  cancelled: 'run.finished',
  failed: 'run.failed',
};

/**
 * Each hub LISTENs; every hub that hears a change emits with the run event's id as delivery key, so the
 * delivery id is the same everywhere and only one attempt per (delivery, attempt number) is made. Changes
 * committed while no hub listens are not delivered (documented limitation).
 */
export class RunWebhookRelay {
  private client: pg.Client | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private log: Logger | undefined;
  private pending = new Set<Promise<void>>();

  constructor(
    private readonly deps: ServiceDeps,
    private readonly pool: pg.Pool,
    private readonly webhooks: WebhookEmitter,
  ) {}

  async start(log?: Logger): Promise<void> {
    if (log) this.log = log;
    if (this.closed) return;
    const client = new pg.Client({ ...this.pool.options, application_name: 'dapple-hub-webhooks' });
    client.on('notification', (msg) => {
      if (msg.channel !== RUN_WEBHOOK_CHANNEL || !msg.payload) return;
      const id = Number(msg.payload);
      if (!Number.isSafeInteger(id)) return;
      const p = this.relay(id).catch((err: unknown) =>
        this.log?.warn({ err, runEventId: id }, 'could not emit run webhook'),
      );
      this.pending.add(p);
      void p.finally(() => this.pending.delete(p));
    });
    client.on('error', (err) => {
      if (isAdminShutdown(err)) this.log?.info('the database is shutting down; the run webhook listener reconnects');
      else this.log?.warn({ err }, 'run webhook listener lost its connection; reconnecting');
      this.reconnect();
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${RUN_WEBHOOK_CHANNEL}`);
    } catch (err) {
      this.log?.warn({ err }, 'run webhook listener could not connect; retrying');
      this.reconnect();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
    await Promise.allSettled([...this.pending]);
  }

  private reconnect(): void {
    const old = this.client;
    this.client = null;
    void old?.end().catch(() => {});
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) void this.start();
    }, 1000);
  }

  private async relay(runEventId: number): Promise<void> {
    const [row] = await this.deps.db
      .select({ event: runEvents, run: runs })
      .from(runEvents)
      .innerJoin(runs, eq(runs.id, runEvents.runId))
      .where(eq(runEvents.id, runEventId));
    const event = row?.event.toStatus ? EVENT_FOR_STATUS[row.event.toStatus] : undefined;
    if (!row || !event) return;
    await this.webhooks.emit(
      row.run.teamId,
      event,
      {
        run: {
          id: row.run.id,
          name: row.run.name,
          status: row.event.toStatus,
          step: row.run.step,
          totalSteps: row.run.totalSteps,
          attempt: row.event.attempt,
          error: row.run.error,
        },
        message: row.event.message,
        at: row.event.createdAt.toISOString(),
      },
      { deliveryKey: `run_event:${runEventId}` },
    );
  }
}
