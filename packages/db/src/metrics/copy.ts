import { MetricsInputError } from './errors.ts';
import { ingestStatement } from './ingest-sql.ts';
import { MAX_STEP } from './ladder.ts';
import { poolOf, type MetricsDb } from './queryable.ts';
import { assertUuid } from './uuid.ts';

/**
 * Copies a run's series up to and including `toStep` into another run (a fork continuing from a
 * parent's checkpoint shows the parent's history). Idempotent like ingest: steps the target already
 * has are kept. Rollups of the target are built by the same statement as ingest.
 */
export async function copyMetrics(
  db: MetricsDb,
  fromRunId: string,
  toRunId: string,
  opts: { toStep: number },
): Promise<{ inserted: number }> {
  assertUuid(fromRunId, 'fromRunId');
  assertUuid(toRunId, 'toRunId');
  if (!Number.isInteger(opts.toStep) || opts.toStep < 0 || opts.toStep > MAX_STEP) {
    throw new MetricsInputError('toStep', `${opts.toStep} is not an integer in 0..${MAX_STEP}`);
  }
  if (fromRunId === toRunId) throw new MetricsInputError('toRunId', 'must differ from fromRunId');
  const pool = poolOf(db);
  let keyIds: number[];
  try {
    await pool.query(
      'INSERT INTO metric_keys (run_id, key) SELECT $2, key FROM metric_keys WHERE run_id = $1 ORDER BY key ON CONFLICT DO NOTHING',
      [fromRunId, toRunId],
    );
    const { rows } = await pool.query<{ id: number }>(
      'SELECT t.id FROM metric_keys t JOIN metric_keys f ON f.key = t.key AND f.run_id = $1 WHERE t.run_id = $2',
      [fromRunId, toRunId],
    );
    keyIds = rows.map((r) => r.id);
  } catch (err) {
    if ((err as { code?: string }).code === '23503')
      throw new MetricsInputError('toRunId', `run ${toRunId} does not exist`);
    throw err;
  }
  if (keyIds.length === 0) return { inserted: 0 };
  const source = `(SELECT t.id AS key_id, p.step, p.value, p.wall_time
      FROM metric_keys f
      JOIN metric_keys t ON t.run_id = $3 AND t.key = f.key
      JOIN metric_points p ON p.key_id = f.id AND p.step <= $4
      WHERE f.run_id = $2) AS src`;
  const { rows } = await pool.query<{ inserted: number }>(ingestStatement(source), [
    keyIds,
    fromRunId,
    toRunId,
    opts.toStep,
  ]);
  return { inserted: rows[0]!.inserted };
}
