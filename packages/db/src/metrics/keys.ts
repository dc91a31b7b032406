import type pg from 'pg';
import { MetricsInputError } from './errors.ts';

export const MAX_KEY_LENGTH = 128;
/** Distinct keys one run may create: guards the key table against a trainer logging a key per step. */
export const MAX_KEYS_PER_RUN = 1000;
const KEY_PATTERN = /^[A-Za-z0-9_.:/-]+$/;

export function validateKey(key: unknown, field: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new MetricsInputError(field, 'must be a non-empty string');
  if (key.length > MAX_KEY_LENGTH)
    throw new MetricsInputError(field, `is ${key.length} characters, the limit is ${MAX_KEY_LENGTH}`);
  if (!KEY_PATTERN.test(key))
    throw new MetricsInputError(field, `"${key}" may only contain letters, digits and _ . : / -`);
  return key;
}

/**
 * Key ids never change once created, so they are cached per pool. A run deleted meanwhile makes the
 * point insert fail on its foreign key; the caller then drops the run's cache entry (forgetRun).
 */
const cache = new WeakMap<pg.Pool, Map<string, Map<string, number>>>();

function runCache(pool: pg.Pool, runId: string): Map<string, number> {
  let byRun = cache.get(pool);
  if (!byRun) cache.set(pool, (byRun = new Map<string, Map<string, number>>()));
  let keys = byRun.get(runId);
  if (!keys) {
    // Bound memory on a long-lived hub: forget the oldest run once many are cached.
    if (byRun.size >= 10_000) byRun.delete(byRun.keys().next().value!);
    byRun.set(runId, (keys = new Map<string, number>()));
  }
  return keys;
}

export function forgetRun(pool: pg.Pool, runId: string): void {
  cache.get(pool)?.delete(runId);
}

/** Ids for the given keys of a run, creating missing ones (race-safe: INSERT … ON CONFLICT, then SELECT). */
export async function resolveKeyIds(
  pool: pg.Pool,
  runId: string,
  keys: Iterable<string>,
): Promise<Map<string, number>> {
  const known = runCache(pool, runId);
  const missing = [...new Set(keys)].filter((k) => !known.has(k));
  if (missing.length > 0) {
    const existing = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM metric_keys WHERE run_id = $1', [
      runId,
    ]);
    if (existing.rows[0]!.n + missing.length > MAX_KEYS_PER_RUN) {
      // Some of the "missing" keys may exist already (another hub instance created them): recheck exactly.
      const found = await selectKeys(pool, runId, missing);
      const created = missing.filter((k) => !found.has(k)).length;
      if (existing.rows[0]!.n + created > MAX_KEYS_PER_RUN) {
        throw new MetricsInputError(
          'points.key',
          `run ${runId} would have ${existing.rows[0]!.n + created} metric keys, the limit is ${MAX_KEYS_PER_RUN}`,
        );
      }
    }
    try {
      await pool.query('INSERT INTO metric_keys (run_id, key) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [
        runId,
        missing,
      ]);
    } catch (err) {
      if ((err as { code?: string }).code === '23503')
        throw new MetricsInputError('runId', `run ${runId} does not exist`);
      throw err;
    }
    for (const [k, id] of await selectKeys(pool, runId, missing)) known.set(k, id);
  }
  return known;
}

async function selectKeys(pool: pg.Pool, runId: string, keys: string[]): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ id: number; key: string }>(
    'SELECT id, key FROM metric_keys WHERE run_id = $1 AND key = ANY($2::text[])',
    [runId, keys],
  );
  return new Map(rows.map((r) => [r.key, r.id]));
}
