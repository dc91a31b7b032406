import pg from 'pg';
import type { Logger } from 'pino';
import { isAdminShutdown } from '@dapple/db';

export interface PgListenerOptions {
  /** Its connection settings are used for the listening connection (which is not taken from the pool). */
  pool: pg.Pool;
  /** A constant identifier (it is written into the LISTEN statement). */
  channel: string;
  /** The connection's application_name, what pg_stat_activity shows. */
  name: string;
  /** Each notification's payload, parsed as JSON. */
  onMessage(message: unknown): void;
  /** Read at each use: some owners only get their logger after construction. */
  log(): Logger | undefined;
  /** Wait before reconnecting; default 1 s. */
  retryMs?: number;
}

/**
 * A dedicated connection LISTENing on one channel, for the hub's cross-instance event feeds (runs,
 * sampling, team activity): a NOTIFY reaches every hub's listener, the sender's included. It reconnects
 * when the connection drops or cannot be opened, so a hub comes up (and answers /healthz with 503) while
 * its database is away and recovers when it is back. Notifications sent meanwhile are lost: the feeds
 * only speed up views that also read the database.
 */
export class PgListener {
  private client: pg.Client | null = null;
  private starting: Promise<void> | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly o: PgListenerOptions) {}

  /** Opens the connection; later calls share the attempt. Resolves after the first try, connected or not. */
  start(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return (this.starting ??= this.connect());
  }

  private async connect(): Promise<void> {
    const { channel } = this.o;
    const client = new pg.Client({ ...this.o.pool.options, application_name: this.o.name });
    client.on('notification', (msg) => {
      if (msg.channel !== channel || !msg.payload) return;
      try {
        this.o.onMessage(JSON.parse(msg.payload));
      } catch (err) {
        this.o.log()?.warn({ err, channel }, 'ignoring a notification that could not be handled');
      }
    });
    client.on('error', (err) => {
      if (isAdminShutdown(err))
        this.o.log()?.info({ channel }, 'the database is shutting down; the listener reconnects');
      else this.o.log()?.warn({ err, channel }, 'notification listener lost its connection; reconnecting');
      this.reconnect();
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      this.o.log()?.warn({ err, channel }, 'notification listener could not connect; retrying');
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
      void this.start();
    }, this.o.retryMs ?? 1000);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.starting?.catch(() => {});
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }
}
