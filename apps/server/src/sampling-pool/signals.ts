import pg from 'pg';
import type { Logger } from 'pino';
import { PgListener } from '../pg-listener.ts';
import { PubSub } from '../pubsub.ts';

/** Postgres channel every hub LISTENs on for sample-job and evaluation changes. */
export const SAMPLING_CHANNEL = 'dapple_sampling';

/** `cancelled`: the row was just cancelled, so the hub that queues or runs it stops it (SampleScheduler). */
export type SamplingSignal = { kind: 'sampleJob' | 'evaluation'; id: string; cancelled?: true };

export const sampleJobChannel = (id: string) => `sampleJob:${id}`;
export const evaluationChannel = (id: string) => `evaluation:${id}`;

/**
 * Cross-instance sample job / evaluation events, as the runs domain does it (services/runs/signals.ts): NOTIFY
 * after a row changed; one LISTEN connection per hub republishes into an in-process PubSub, so a
 * subscription on hub A sees a job that hub B runs. The connection is opened on first subscribe.
 */
export class SamplingSignals {
  readonly pubsub = new PubSub<SamplingSignal>();
  private readonly listener: PgListener;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log?: Logger,
  ) {
    this.listener = new PgListener({
      pool,
      channel: SAMPLING_CHANNEL,
      name: 'dapple-hub-listen-sampling',
      log: () => this.log,
      onMessage: (message) => {
        const signal = message as SamplingSignal;
        this.pubsub.publish(
          signal.kind === 'sampleJob' ? sampleJobChannel(signal.id) : evaluationChannel(signal.id),
          signal,
        );
      },
    });
  }

  /** Opens the LISTEN connection if not open yet. */
  listen(): Promise<void> {
    return this.listener.start();
  }

  /** NOTIFY every hub (this one included). A lost notification only delays a live view. */
  async notify(signal: SamplingSignal): Promise<void> {
    try {
      await this.pool.query('SELECT pg_notify($1, $2)', [SAMPLING_CHANNEL, JSON.stringify(signal)]);
    } catch (err) {
      this.log?.warn({ err, signal }, 'could not send sampling notification');
    }
  }

  close(): Promise<void> {
    return this.listener.close();
  }
}
