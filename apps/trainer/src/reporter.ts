import type { MetricPoint } from '@dapple/contracts/trainer-protocol';
import { MAX_METRIC_POINTS_PER_BATCH } from '@dapple/contracts/trainer-protocol';
import type { Heartbeat } from '@dapple/contracts/trainer-protocol';
import { TrainerApiError, type TrainerClient } from '@dapple/contracts/trainer-client';
import { isRetryable } from './hub.ts';

/** Points kept while the hub is unreachable; the oldest are dropped beyond this. */
const MAX_BUFFERED_POINTS = 100_000;

/**
 * Sends metric batches (≤ 1000 points) and heartbeats every few seconds from a timer, so the hub hears
 * from the trainer between (and during long) training steps. Learns about cancels from the replies.
 */
export class Reporter {
  private buffer: MetricPoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  private status: Heartbeat = { step: 0, phase: 'loading' };
  /** Set when the hub asked to stop (cancel) or revoked the token. */
  stopReason: 'cancel' | 'revoked' | null = null;
  private onStop: (() => void) | undefined;

  constructor(
    private readonly client: TrainerClient,
    private readonly everyMs: number,
    private readonly log: (msg: string) => void,
  ) {}

  start(onStop: () => void): void {
    this.onStop = onStop;
    this.timer = setInterval(() => void this.flush(), this.everyMs);
    void this.flush();
  }

  set(status: Partial<Heartbeat>): void {
    this.status = { ...this.status, ...status };
  }

  record(step: number, values: Record<string, number | null | undefined>): void {
    for (const [key, value] of Object.entries(values)) {
      if (value === null || value === undefined) continue;
      this.buffer.push({ key, step, value });
    }
    if (this.buffer.length > MAX_BUFFERED_POINTS) this.buffer.splice(0, this.buffer.length - MAX_BUFFERED_POINTS);
  }

  /** Sends everything buffered plus a heartbeat; concurrent calls queue behind each other. */
  flush(): Promise<void> {
    this.sending = this.sending.then(() => this.send());
    return this.sending;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async send(): Promise<void> {
    // Only what was buffered when this send began: points recorded meanwhile wait for the next one, so a
    // fast trainer cannot keep this loop busy forever and starve the heartbeat.
    let pending = this.buffer.length;
    try {
      while (pending > 0) {
        const batch = this.buffer.slice(0, Math.min(pending, MAX_METRIC_POINTS_PER_BATCH));
        await this.client.metrics(batch);
        this.buffer.splice(0, batch.length);
        pending -= batch.length;
      }
      const reply = await this.client.heartbeat(this.status);
      if (reply.cancelRequested) this.requestStop('cancel');
    } catch (err) {
      if (err instanceof TrainerApiError && err.revoked) {
        this.log(`the hub revoked this attempt's token (${err.message}): stopping`);
        this.requestStop('revoked');
      } else if (isRetryable(err)) {
        this.log(`could not reach the hub (${(err as Error).message}); will retry`);
      } else {
        this.log(`the hub refused a report: ${(err as Error).message}`);
        this.buffer = [];
      }
    }
  }

  private requestStop(reason: 'cancel' | 'revoked'): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.onStop?.();
  }
}
