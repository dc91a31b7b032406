import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;
export type Db = NodePgDatabase<Schema>;

export interface CreateDbOptions {
  /** Maximum pool size (default 10). */
  max?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
  /** How long getting a connection (from the pool or a new one) may take before the query fails; default 10 s. */
  connectionTimeoutMs?: number;
}

export interface DbHandle {
  db: Db;
  pool: pg.Pool;
  /** Ends every pooled connection. Safe to call twice. */
  close(): Promise<void>;
}

/** The one way to open the database: a node-postgres pool wrapped by drizzle with our schema. */
export function createDb(connectionString: string, opts: CreateDbOptions = {}): DbHandle {
  const pool = new pg.Pool({
    connectionString,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'dapple',
    // A connection attempt made while Postgres is shutting down or starting up can be accepted and then never
    // answered; without a limit the request that needed it (and whoever waits on that request) hangs for good.
    // Callers see "timeout exceeded when trying to connect", which isDatabaseUnavailable recognises.
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 10_000,
    // Notice a connection whose peer vanished without closing it (a network cut) instead of waiting on it.
    keepAlive: true,
  });
  // An idle client losing its connection (e.g. Postgres restarting) must not crash the process.
  pool.on('error', () => {});
  // Nor may a client that is checked out (a transaction, a COPY): the pool takes its own listener off while the client
  // is out, and when Postgres ends the connection between two queries (a restart, a fast shutdown: "terminating
  // connection due to administrator command") node-postgres emits 'error' on the client, which with no listener stops
  // the process. The holder still learns of it: its next query on that client rejects, and releasing the client
  // with that error discards it.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = drizzle(pool, { schema, casing: 'snake_case' });
  let closed: Promise<void> | undefined;
  return {
    db,
    pool,
    close: () => (closed ??= pool.end()),
  };
}
