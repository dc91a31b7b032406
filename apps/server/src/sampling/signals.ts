import pg from 'pg';
import type { Logger } from 'pino';
import { PubSub } from '../pubsub.ts';

/** Postgres channel every hub LISTENs on for sample-job and evaluation changes. */
export const SAMPLING_CHANNEL = 'dapple_sampling';

export type SamplingSignal = { kind: 'sampleJob'; id: string } | { kind: 'evaluation'; id: string };

export const sampleJobChannel = (id: string) => `sampleJob:${id}`;
export const evaluationChannel = (id: string) => `evaluation:${id}`;

/**
 * Cross-instance sample job / evaluation events, as the runs domain does it (runs-notify.ts): NOTIFY
 * after a row changed; one LISTEN connection per hub republishes into an in-process PubSub, so a
 * subscription on hub A sees a job that hub B runs. The connection is opened on first subscribe.
 */
export class SamplingSignals {
  readonly pubsub = new PubSub<SamplingSignal>();
  private client: pg.Client | null = null;
  private starting: Promise<void> | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log?: Logger,
  ) {}

  /** Opens the LISTEN connection if not open yet. */
  listen(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return (this.starting ??= this.connect());
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.pool.options, application_name: 'dapple-hub-listen-sampling' });
    client.on('notification', (msg) => {
      if (msg.channel !== SAMPLING_CHANNEL || !msg.payload) return;
      try {
        const signal = JSON.parse(msg.payload) as SamplingSignal;
        this.pubsub.publish(signal.kind === 'sampleJob' ? sampleJobChannel(signal.id) : evaluationChannel(signal.id), signal);
      } catch (err) {
        this.log?.warn({ err }, 'ignoring malformed sampling notification');
      }
    });
    client.on('error', (err) => {
      this.log?.warn({ err }, 'sampling notification listener lost its connection; reconnecting');
      this.reconnect();
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${SAMPLING_CHANNEL}`);
    } catch (err) {
      this.log?.warn({ err }, 'sampling notification listener could not connect; retrying');
      this.reconnect();
    }
  }

  private reconnect(): void {
    const old = this.client;
    this.client = null;
    this.starting = null;
    void old?.end().catch(() => {});
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.listen();
    }, 1000);
  }

  /** NOTIFY every hub (this one included). A lost notification only delays a live view. */
  async notify(signal: SamplingSignal): Promise<void> {
    try {
      await this.pool.query('SELECT pg_notify($1, $2)', [SAMPLING_CHANNEL, JSON.stringify(signal)]);
    } catch (err) {
      this.log?.warn({ err, signal }, 'could not send sampling notification');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
