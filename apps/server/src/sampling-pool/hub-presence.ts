import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** First key of the two-int advisory locks that mark live hubs ('DPLH'); the second is taken from the hub id. */
const PRESENCE_LOCK_CLASS = 0x44504c48;

/**
 * Tells which hub processes are alive, through Postgres itself: each hub holds a session advisory lock
 * named after its random id on a connection of its own. Postgres drops the lock when the process dies,
 * however it dies (kill -9 included), so "is hub X alive" is "is X's lock held" — no heartbeats, no
 * clocks. Work a hub keeps in memory (the sample-job queue) is tagged with its id and adopted by a
 * live hub once the lock is gone.
 */
export class HubPresence {
  readonly id = randomUUID();
  private client: pg.Client | null = null;
  private starting: Promise<void> | null = null;

  constructor(private readonly pool: pg.Pool) {}

  /**
   * Takes this hub's lock (once; callers share the attempt, and a failed attempt is retried by the next
   * call). Until it resolves, other hubs see this hub as gone.
   */
  start(): Promise<void> {
    this.starting ??= this.connect().catch((err: unknown) => {
      this.starting = null;
      throw err;
    });
    return this.starting;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.pool.options, application_name: 'dapple-hub-presence' });
    // A dropped connection releases the lock: other hubs then adopt our queue while we still run it.
    // Rare (the database restarted); the adopting hub reruns jobs from scratch, which is safe (seeded).
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select pg_advisory_lock($1, $2)', [PRESENCE_LOCK_CLASS, lockKey(this.id)]);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
  }

  /** The ids (of those given) whose hub still holds its lock. */
  async alive(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const keys = ids.map(lockKey);
    const { rows } = await this.pool.query<{ objid: string }>(
      `select objid::text from pg_locks
        where locktype = 'advisory' and granted and objsubid = 2 and classid = $1::bigint::oid and objid = any($2::bigint[]::oid[])`,
      [PRESENCE_LOCK_CLASS, keys.map((k) => k >>> 0)],
    );
    const held = new Set(rows.map((r) => Number(r.objid)));
    return new Set(ids.filter((id, i) => held.has(keys[i]! >>> 0)));
  }

  async close(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}

/** A signed int4 from the id's first 8 hex digits (ids are random UUIDs: collisions are 1 in 2^32). */
function lockKey(id: string): number {
  return Number.parseInt(id.replace(/-/g, '').slice(0, 8), 16) | 0;
}
