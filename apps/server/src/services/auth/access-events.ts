import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { PgListener } from '../../pg-listener.ts';
import type { ServiceDeps } from '../types.ts';

/**
 * "Who may see what changed": a member removed or their role changed, an API token revoked, a session signed out,
 * a share link revoked, a model unshared or made private. Live streams (GraphQL subscriptions) listen and
 * re-authorise the streams it concerns at once; a periodic re-check bounds whatever is missed.
 */
export interface AccessChange {
  /** Re-check the streams of these users. */
  userIds?: string[];
  /** Re-check every stream (share links, model visibility: who holds them is not known). */
  all?: boolean;
  /** For logs: what changed. */
  reason: string;
}

export const ACCESS_CHANNEL = 'dapple_access';

/**
 * Published with Postgres NOTIFY, so every hub's streams hear it (the sender's own included). A failed publish
 * is logged, never fails the change itself: the periodic re-check still ends the stream.
 */
export class AccessEvents {
  private readonly local = new EventEmitter().setMaxListeners(0);
  private readonly listener: PgListener;
  private logger: Logger | undefined;

  constructor(private readonly deps: Pick<ServiceDeps, 'pool'>) {
    this.listener = new PgListener({
      pool: deps.pool,
      channel: ACCESS_CHANNEL,
      name: 'dapple-hub-access',
      onMessage: (message) => this.local.emit('change', message),
      log: () => this.logger,
    });
  }

  async start(logger: Logger): Promise<void> {
    this.logger = logger;
    await this.listener.start();
  }

  close(): Promise<void> {
    this.local.removeAllListeners();
    return this.listener.close();
  }

  async publish(change: AccessChange): Promise<void> {
    try {
      await this.deps.pool.query('select pg_notify($1, $2)', [ACCESS_CHANNEL, JSON.stringify(change)]);
    } catch (err) {
      this.logger?.warn({ err, change }, 'could not announce an access change; streams catch up at the next re-check');
    }
  }

  /** Calls `fn` for every change (from any hub); returns the unsubscribe. */
  onChange(fn: (change: AccessChange) => void): () => void {
    this.local.on('change', fn);
    return () => this.local.off('change', fn);
  }
}
