import { from as copyFrom } from 'pg-copy-streams';
import type pg from 'pg';
import type { MetricPointInput } from '../src/index.ts';

/**
 * The baseline every metric-ingest bench measures against: COPY the same batches straight into
 * metric_points, with no dedupe, rollups or notifications. Points' keys must be `key0` … `key{keysPerRun-1}`;
 * each run's key ids are created on its first batch.
 */
export function rawCopyBaseline(
  pool: pg.Pool,
  keysPerRun: number,
): (runId: string, batch: readonly MetricPointInput[]) => Promise<void> {
  const keyIds = new Map<string, number[]>();
  return async (runId, batch) => {
    let ids = keyIds.get(runId);
    if (!ids) {
      const { rows } = await pool.query<{ id: number }>(
        `INSERT INTO metric_keys (run_id, key) SELECT $1, 'key' || k FROM generate_series(0, ${keysPerRun - 1}) k ORDER BY k RETURNING id`,
        [runId],
      );
      keyIds.set(runId, (ids = rows.map((r) => r.id)));
    }
    const now = new Date().toISOString();
    const text = batch.map((p) => `${ids[Number(p.key.slice(3))]}\t${p.step}\t${p.value}\t${now}\n`).join('');
    const client = await pool.connect();
    try {
      await new Promise<void>((resolve, reject) => {
        const stream = client.query(copyFrom('COPY metric_points (key_id, step, value, wall_time) FROM STDIN'));
        stream.on('error', reject).on('finish', resolve);
        stream.end(text);
      });
    } finally {
      client.release();
    }
  };
}
