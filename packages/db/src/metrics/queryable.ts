import type pg from 'pg';

/** Anything the metrics functions can run SQL on: a pg Pool, or a drizzle db created by `createDb` (its pool is used). */
export type MetricsDb = pg.Pool | { $client: pg.Pool };

export function poolOf(db: MetricsDb): pg.Pool {
  return '$client' in db ? db.$client : db;
}
