import type pg from 'pg';
import type { Db } from '../client.ts';

/** Anything the metrics functions can run SQL on: a pg Pool, or a drizzle db from `createDb` (its pool is used). */
export type MetricsDb = pg.Pool | Db;

export function poolOf(db: MetricsDb): pg.Pool {
  // drizzle's node-postgres driver keeps the pool it was given as `$client` (not part of the Db type).
  const client = (db as unknown as { $client?: pg.Pool }).$client;
  return client ?? (db as pg.Pool);
}
