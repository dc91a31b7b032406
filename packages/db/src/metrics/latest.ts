import { MetricsInputError } from './errors.ts';
import { validateKey } from './keys.ts';
import { poolOf, type MetricsDb } from './queryable.ts';
import { assertUuid } from './uuid.ts';

export interface LatestMetric {
  key: string;
  step: number;
  /** The stored value, NaN/±Infinity included. */
  value: number;
  wallTime: Date;
}

/**
 * The newest point (highest step) of each key of a run; all keys when `keys` is omitted. Keys without
 * points are left out. One index probe per key.
 */
export async function latestMetrics(db: MetricsDb, runId: string, keys?: readonly string[]): Promise<LatestMetric[]> {
  assertUuid(runId, 'runId');
  if (keys !== undefined) {
    // Checked through an `unknown` copy: narrowing `keys` itself would turn it into any[] below.
    const untrusted: unknown = keys;
    if (!Array.isArray(untrusted)) throw new MetricsInputError('keys', 'must be an array');
    keys.forEach((k, i) => validateKey(k, `keys[${i}]`));
  }
  const { rows } = await poolOf(db).query<{ key: string; step: number; value: number; wall_time: Date }>(
    `SELECT k.key, p.step, p.value, p.wall_time
     FROM metric_keys k
     CROSS JOIN LATERAL (SELECT step, value, wall_time FROM metric_points WHERE key_id = k.id ORDER BY step DESC LIMIT 1) p
     WHERE k.run_id = $1 AND ($2::text[] IS NULL OR k.key = ANY($2::text[]))
     ORDER BY k.key`,
    [runId, keys ? [...keys] : null],
  );
  return rows.map((r) => ({ key: r.key, step: r.step, value: r.value, wallTime: r.wall_time }));
}

/** The keys a run has logged, sorted. */
export async function listMetricKeys(db: MetricsDb, runId: string): Promise<string[]> {
  assertUuid(runId, 'runId');
  const { rows } = await poolOf(db).query<{ key: string }>(
    'SELECT key FROM metric_keys WHERE run_id = $1 ORDER BY key',
    [runId],
  );
  return rows.map((r) => r.key);
}
