import { useTestDatabase } from '@dapple/testing';
import { describe, expect, it } from 'vitest';
import {
  copyMetrics,
  insertMetricColumns,
  insertMetricPoints,
  latestMetrics,
  listMetricKeys,
  MAX_KEYS_PER_RUN,
  MetricsInputError,
  queryMetrics,
  type MetricPointInput,
} from './index.ts';
import { levelShift, ROLLUP_LEVELS } from './ladder.ts';
import { insertTestRun, mulberry32, referenceBuckets } from './test-fixtures.ts';

const testDb = await useTestDatabase();
const pool = testDb.pool;

async function rollupRows(runId: string) {
  const { rows } = await pool.query(
    `SELECT k.key, r.level, r.bucket, r.count, r.non_finite, r.sum, r.min, r.max, r.last_step, r.last_value
     FROM metric_rollups r JOIN metric_keys k ON k.id = r.key_id WHERE k.run_id = $1 ORDER BY 1, 2, 3`,
    [runId],
  );
  return rows;
}

async function rawRows(runId: string) {
  const { rows } = await pool.query(
    `SELECT k.key, p.step, p.value, p.wall_time FROM metric_points p JOIN metric_keys k ON k.id = p.key_id
     WHERE k.run_id = $1 ORDER BY 1, 2`,
    [runId],
  );
  return rows;
}

async function orphans() {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*)::int FROM metric_points p WHERE NOT EXISTS (SELECT 1 FROM metric_keys k WHERE k.id = p.key_id)) AS points,
            (SELECT count(*)::int FROM metric_rollups r WHERE NOT EXISTS (SELECT 1 FROM metric_keys k WHERE k.id = r.key_id)) AS rollups`,
  );
  return rows[0];
}

function closeTo(actual: number | null, expected: number | null) {
  if (expected === null || actual === null) return expect(actual).toBe(expected);
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
}

describe.each(['unnest', 'copy'] as const)('insertMetricPoints via %s', (method) => {
  it('is idempotent: a resent batch (even with other values) changes nothing', async () => {
    const runId = await insertTestRun(pool);
    const batch: MetricPointInput[] = [];
    for (let step = 0; step < 300; step++) {
      batch.push({ key: 'loss', step, value: 1 / (step + 1) }, { key: 'lr', step, value: 1e-4 });
    }
    expect(await insertMetricPoints(pool, runId, batch, { method })).toEqual({ inserted: 600, maxStep: 299 });
    const raw = await rawRows(runId);
    const rollups = await rollupRows(runId);
    expect(rollups.length).toBeGreaterThan(0);

    const resent = batch.map((p) => ({ ...p, value: p.value + 1, wallTime: new Date(0) }));
    expect(await insertMetricPoints(pool, runId, resent, { method })).toEqual({ inserted: 0, maxStep: null });
    expect(await rawRows(runId)).toEqual(raw);
    expect(await rollupRows(runId)).toEqual(rollups);

    // A batch overlapping the stored range only adds its new steps.
    const overlap = [290, 300, 301].map((step) => ({ key: 'loss', step, value: 7 }));
    expect(await insertMetricPoints(pool, runId, overlap, { method })).toEqual({ inserted: 2, maxStep: 301 });
  });

  it('keeps the first occurrence of a step repeated inside one batch', async () => {
    const runId = await insertTestRun(pool);
    const res = await insertMetricPoints(
      pool,
      runId,
      [
        { key: 'loss', step: 3, value: 1 },
        { key: 'loss', step: 3, value: 2 },
        { key: 'loss', step: 4, value: 5 },
      ],
      { method },
    );
    expect(res.inserted).toBe(2);
    expect((await rawRows(runId)).map((r) => [r.step, r.value])).toEqual([
      [3, 1],
      [4, 5],
    ]);
  });

  it('keeps the first occurrence also when steps arrive out of order, per key', async () => {
    const runId = await insertTestRun(pool);
    const steps = [5, 3, 5, 9, 3, 4, 9, 0];
    const points = steps.flatMap((step, i) => [
      { key: 'a', step, value: i },
      { key: 'b', step: 10 - step, value: 100 + i },
    ]);
    expect((await insertMetricPoints(pool, runId, points, { method })).inserted).toBe(10);
    const rows = (await rawRows(runId)).map((r) => [r.key, r.step, r.value]);
    expect(rows).toEqual([
      ['a', 0, 7],
      ['a', 3, 1],
      ['a', 4, 5],
      ['a', 5, 0],
      ['a', 9, 3],
      ['b', 1, 103],
      ['b', 5, 100],
      ['b', 6, 105],
      ['b', 7, 101],
      ['b', 10, 107],
    ]);
  });

  it('stores each point’s own wall time, and the time of the call for points without one', async () => {
    const runId = await insertTestRun(pool);
    const own = new Date('2026-03-04T05:06:07.891Z');
    const before = Date.now();
    await insertMetricPoints(
      pool,
      runId,
      [
        { key: 'loss', step: 0, value: 1, wallTime: own },
        { key: 'loss', step: 1, value: 2 },
      ],
      { method },
    );
    await insertMetricPoints(pool, runId, [{ key: 'loss', step: 2, value: 3 }], { method });
    const after = Date.now();
    const times = (await rawRows(runId)).map((r) => (r.wall_time as Date).getTime());
    expect(times[0]).toBe(own.getTime());
    for (const t of times.slice(1)) {
      expect(t).toBeGreaterThanOrEqual(before);
      expect(t).toBeLessThanOrEqual(after);
    }
  });

  it('round-trips extreme values exactly (binary float8 parameters)', async () => {
    const runId = await insertTestRun(pool);
    const values = [0, 5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 1 / 3, -(2 ** 53), Number.NaN, Infinity, -Infinity];
    await insertMetricPoints(
      pool,
      runId,
      values.map((value, step) => ({ key: 'x', step, value })),
      { method },
    );
    expect((await rawRows(runId)).map((r) => r.value)).toEqual(values);
  });
});

describe('insertMetricColumns', () => {
  it('stores what insertMetricPoints stores for the same batch, idempotently', async () => {
    const viaPoints = await insertTestRun(pool);
    const viaColumns = await insertTestRun(pool);
    const points: MetricPointInput[] = [];
    for (let step = 0; step < 40; step++)
      points.push(
        { key: 'loss', step, value: 1 / (step + 1) },
        { key: 'lr', step, value: step % 7 ? 1e-3 : Number.NaN },
      );
    points.push({ key: 'loss', step: 3, value: 99 }); // repeated inside the batch: the first one wins
    await insertMetricPoints(pool, viaPoints, points);
    // 'loss' listed twice: both indexes name one series.
    const keys = ['loss', 'lr', 'loss'];
    const columns = {
      keys,
      keyIndex: Uint16Array.from(points, (p, i) => (p.key === 'lr' ? 1 : i % 4 === 0 ? 2 : 0)),
      steps: Uint32Array.from(points, (p) => p.step),
      values: Float64Array.from(points, (p) => p.value),
    };
    expect(await insertMetricColumns(pool, viaColumns, columns)).toEqual({ inserted: 80, maxStep: 39 });
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ wall_time: _, ...r }) => r);
    expect(strip(await rawRows(viaColumns))).toEqual(strip(await rawRows(viaPoints)));
    expect(await rollupRows(viaColumns)).toEqual(await rollupRows(viaPoints));
    expect(await insertMetricColumns(pool, viaColumns, columns)).toEqual({ inserted: 0, maxStep: null });
  });

  it('names the bad column entry, before storing anything', async () => {
    const runId = await insertTestRun(pool);
    const ok = { keys: ['loss'], keyIndex: [0, 0], steps: [0, 1], values: [1, 2] };
    const bad: [typeof ok, RegExp][] = [
      [{ ...ok, keys: ['a b'] }, /keys\[0\]: "a b" may only contain/],
      [{ ...ok, keyIndex: [0, 1] }, /keyIndex\[1\]: 1 is not an index into the 1 keys/],
      [{ ...ok, steps: [0, 2 ** 31] }, /steps\[1\]: 2147483648 is not an integer in 0\.\.2147483647/],
      [{ ...ok, values: [1, '2' as unknown as number] }, /values\[1\]: must be a number/],
      [{ ...ok, values: [1] }, /must be as long \(2, 2, 1\)/],
    ];
    for (const [columns, message] of bad)
      await expect(insertMetricColumns(pool, runId, columns)).rejects.toThrow(message);
    expect(await listMetricKeys(pool, runId)).toEqual([]);
  });
});

describe('rollups and downsampled reads', () => {
  it('agree with a GROUP BY over raw points (randomised batches, gaps, overlaps, NaN/Infinity)', async () => {
    const rand = mulberry32(42);
    const runId = await insertTestRun(pool);
    const keys = ['loss', 'grad_norm', 'lr'];
    // ~30k steps with gaps, sent out of order in overlapping batches through both methods.
    const all: MetricPointInput[] = [];
    for (const key of keys) {
      let step = Math.floor(rand() * 50);
      while (step < 30_000) {
        const r = rand();
        const value = r < 0.01 ? NaN : r < 0.015 ? Infinity : r < 0.02 ? -Infinity : (rand() - 0.3) * 100;
        all.push({ key, step, value });
        step += 1 + (rand() < 0.1 ? Math.floor(rand() * 40) : 0);
      }
    }
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    let inserted = 0;
    for (let i = 0; i < all.length; i += 2500) {
      // Each batch also resends 300 points of the previous one.
      const batch = all.slice(Math.max(0, i - 300), i + 2500);
      inserted += (await insertMetricPoints(pool, runId, batch, { method: i % 5000 === 0 ? 'copy' : 'unnest' }))
        .inserted;
    }
    expect(inserted).toBe(all.length);

    // Every rollup level equals the GROUP BY of raw points at its width.
    for (let level = 1; level <= ROLLUP_LEVELS; level++) {
      const stored = (await rollupRows(runId)).filter((r) => r.level === level);
      const ref = await referenceBuckets(pool, runId, keys, levelShift(level), 0, 2 ** 31 - 1);
      expect(stored.length).toBe(ref.length);
      stored.forEach((s, i) => {
        const r = ref[i]!;
        expect([s.key, s.bucket, s.count, s.non_finite, s.min, s.max, s.last_step, s.last_value]).toEqual([
          r.key,
          r.bucket,
          r.count,
          r.nonFinite,
          r.min,
          r.max,
          r.lastStep,
          r.last,
        ]);
        closeTo(s.count > 0 ? s.sum / s.count : null, r.mean);
      });
    }

    // Random reads agree with the reference at the width queryMetrics chose.
    for (let i = 0; i < 60; i++) {
      const from = rand() < 0.2 ? undefined : Math.floor(rand() * 30_000);
      const to = rand() < 0.2 ? undefined : (from ?? 0) + Math.floor(rand() ** 2 * 32_000);
      const maxPoints = 1 + Math.floor(rand() * (rand() < 0.5 ? 50 : 3000));
      const subset = keys.filter(() => rand() < 0.7);
      if (subset.length === 0) subset.push('loss');
      const res = await queryMetrics(pool, { runId, keys: subset, maxPoints, fromStep: from, toStep: to });
      expect(res.series.map((s) => s.key)).toEqual(subset);
      const shift = Math.log2(res.bucketWidth);
      if (res.fromStep === null) continue;
      const ref = await referenceBuckets(pool, runId, subset, shift, res.fromStep, res.toStep!);
      for (const series of res.series) {
        expect(series.buckets.length).toBeLessThanOrEqual(maxPoints);
        const expected = ref.filter((r) => r.key === series.key);
        expect(series.buckets.length).toBe(expected.length);
        series.buckets.forEach((b, j) => {
          const r = expected[j]!;
          expect(b.step).toBe(Math.max(res.fromStep!, r.bucket * res.bucketWidth));
          expect([b.count, b.nonFinite, b.min, b.max, b.lastStep, b.last]).toEqual([
            r.count,
            r.nonFinite,
            r.min,
            r.max,
            r.lastStep,
            r.last,
          ]);
          closeTo(b.mean, r.mean);
        });
      }
    }
  });

  it('treats fromStep/toStep as inclusive, clamps to stored steps, and uses raw points for small ranges', async () => {
    const runId = await insertTestRun(pool);
    const points = Array.from({ length: 100 }, (_, i) => ({ key: 'loss', step: 10 + i, value: i }));
    await insertMetricPoints(pool, runId, points);
    const exact = await queryMetrics(pool, { runId, keys: ['loss'], maxPoints: 1000, fromStep: 20, toStep: 24 });
    expect(exact.bucketWidth).toBe(1);
    expect(exact.series[0]!.buckets.map((b) => [b.step, b.mean, b.count])).toEqual([
      [20, 10, 1],
      [21, 11, 1],
      [22, 12, 1],
      [23, 13, 1],
      [24, 14, 1],
    ]);
    const all = await queryMetrics(pool, { runId, keys: ['loss'], maxPoints: 1000 });
    expect([all.fromStep, all.toStep, all.series[0]!.buckets.length]).toEqual([10, 109, 100]);
    const clamped = await queryMetrics(pool, { runId, keys: ['loss'], maxPoints: 1000, fromStep: 100, toStep: 5000 });
    expect([clamped.fromStep, clamped.toStep]).toEqual([100, 109]);
    const one = await queryMetrics(pool, { runId, keys: ['loss'], maxPoints: 1 });
    expect(one.series[0]!.buckets).toEqual([
      { step: 10, mean: 49.5, min: 0, max: 99, last: 99, lastStep: 109, count: 100, nonFinite: 0 },
    ]);
    const none = await queryMetrics(pool, { runId, keys: ['loss', 'nope'], maxPoints: 10, fromStep: 500 });
    expect(none).toEqual({
      bucketWidth: 1,
      fromStep: null,
      toStep: null,
      series: [
        { key: 'loss', buckets: [] },
        { key: 'nope', buckets: [] },
      ],
    });
    await expect(queryMetrics(pool, { runId, keys: ['loss'], maxPoints: 10, fromStep: 5, toStep: 4 })).rejects.toThrow(
      /fromStep: 5 is after toStep 4/,
    );
    await expect(queryMetrics(pool, { runId, keys: ['loss'], maxPoints: 0 })).rejects.toThrow(
      /maxPoints: 0 is not an integer in 1\.\.100000/,
    );
    await expect(queryMetrics(pool, { runId, keys: [], maxPoints: 10 })).rejects.toThrow(MetricsInputError);
  });

  it('stores NaN/Infinity, reports them as nonFinite, and leaves them out of aggregates', async () => {
    const runId = await insertTestRun(pool);
    await insertMetricPoints(pool, runId, [
      { key: 'loss', step: 0, value: 2 },
      { key: 'loss', step: 1, value: 4 },
      { key: 'loss', step: 2, value: NaN },
      { key: 'loss', step: 3, value: -Infinity },
      { key: 'gone', step: 0, value: Infinity },
    ]);
    const res = await queryMetrics(pool, { runId, keys: ['loss', 'gone'], maxPoints: 1 });
    expect(res.series[0]!.buckets).toEqual([
      { step: 0, mean: 3, min: 2, max: 4, last: 4, lastStep: 1, count: 2, nonFinite: 2 },
    ]);
    expect(res.series[1]!.buckets).toEqual([
      { step: 0, mean: null, min: null, max: null, last: null, lastStep: null, count: 0, nonFinite: 1 },
    ]);
    const latest = await latestMetrics(pool, runId);
    expect(latest.map((l) => [l.key, l.step, l.value])).toEqual([
      ['gone', 0, Infinity],
      ['loss', 3, -Infinity],
    ]);
  });
});

describe('keys', () => {
  it('handles many keys per batch and lists them; latestMetrics filters by key', async () => {
    const runId = await insertTestRun(pool);
    const keys = Array.from({ length: 300 }, (_, i) => `layer.${String(i).padStart(3, '0')}/grad_norm`);
    const batch = keys.flatMap((key, i) => [0, 1, 2].map((step) => ({ key, step, value: i + step })));
    expect((await insertMetricPoints(pool, runId, batch, { method: 'copy' })).inserted).toBe(900);
    expect(await listMetricKeys(pool, runId)).toEqual(keys);
    // A drizzle db from createDb works too (its pool is used).
    expect(await listMetricKeys(testDb.db, runId)).toEqual(keys);
    const latest = await latestMetrics(pool, runId, [keys[7]!, keys[299]!, 'missing']);
    expect(latest.map((l) => [l.key, l.step, l.value])).toEqual([
      [keys[7], 2, 9],
      [keys[299], 2, 301],
    ]);
    expect(latest[0]!.wallTime).toBeInstanceOf(Date);
  });

  it(`refuses more than ${MAX_KEYS_PER_RUN} keys per run, storing nothing of that batch`, async () => {
    const runId = await insertTestRun(pool);
    await insertMetricPoints(
      pool,
      runId,
      Array.from({ length: MAX_KEYS_PER_RUN - 1 }, (_, i) => ({ key: `k${i}`, step: 0, value: 0 })),
    );
    await expect(
      insertMetricPoints(pool, runId, [
        { key: 'k1', step: 1, value: 0 },
        { key: 'extra1', step: 0, value: 0 },
        { key: 'extra2', step: 0, value: 0 },
      ]),
    ).rejects.toThrow(`would have ${MAX_KEYS_PER_RUN + 1} metric keys, the limit is ${MAX_KEYS_PER_RUN}`);
    expect((await latestMetrics(pool, runId, ['k1']))[0]!.step).toBe(0);
  });

  it('names the field and the limit on bad input, before storing anything', async () => {
    const runId = await insertTestRun(pool);
    const bad: [MetricPointInput[], RegExp][] = [
      [[{ key: '', step: 0, value: 1 }], /points\[0\]\.key: must be a non-empty string/],
      [[{ key: 'a b', step: 0, value: 1 }], /points\[0\]\.key: "a b" may only contain/],
      [[{ key: 'x'.repeat(129), step: 0, value: 1 }], /points\[0\]\.key: is 129 characters, the limit is 128/],
      [
        [
          { key: 'ok', step: 0, value: 1 },
          { key: 'ok', step: -1, value: 1 },
        ],
        /points\[1\]\.step: -1 is not an integer in 0\.\.2147483647/,
      ],
      [[{ key: 'ok', step: 1.5, value: 1 }], /points\[0\]\.step/],
      [[{ key: 'ok', step: 2 ** 31, value: 1 }], /points\[0\]\.step/],
      [[{ key: 'ok', step: 0, value: '1' as unknown as number }], /points\[0\]\.value: must be a number/],
      [[{ key: 'ok', step: 0, value: 1, wallTime: new Date('nope') }], /points\[0\]\.wallTime: must be a valid Date/],
    ];
    for (const [points, message] of bad) await expect(insertMetricPoints(pool, runId, points)).rejects.toThrow(message);
    expect(await listMetricKeys(pool, runId)).toEqual([]);
    await expect(insertMetricPoints(pool, 'not-a-uuid', [])).rejects.toThrow(/runId: "not-a-uuid" is not a UUID/);
  });

  it('says the run does not exist, also after its keys were cached and the run was deleted (cascade)', async () => {
    await expect(
      insertMetricPoints(pool, '00000000-0000-4000-8000-000000000000', [{ key: 'loss', step: 0, value: 1 }]),
    ).rejects.toThrow(/runId: run 00000000-0000-4000-8000-000000000000 does not exist/);
    const runId = await insertTestRun(pool);
    await insertMetricPoints(pool, runId, [{ key: 'loss', step: 0, value: 1 }]);
    await pool.query('DELETE FROM runs WHERE id = $1', [runId]);
    expect(await rawRows(runId)).toEqual([]);
    expect(await orphans()).toEqual({ points: 0, rollups: 0 });
    for (const method of ['unnest', 'copy'] as const) {
      await expect(insertMetricPoints(pool, runId, [{ key: 'loss', step: 1, value: 1 }], { method })).rejects.toThrow(
        /does not exist/,
      );
    }
    expect(await orphans()).toEqual({ points: 0, rollups: 0 });
  });

  it('leaves no orphan points when the run is deleted while a batch is being written', async () => {
    for (const method of ['unnest', 'copy'] as const) {
      const runId = await insertTestRun(pool);
      await insertMetricPoints(pool, runId, [{ key: 'loss', step: 0, value: 1 }], { method }); // caches the key id
      const deleter = await pool.connect();
      try {
        await deleter.query('BEGIN');
        await deleter.query('DELETE FROM runs WHERE id = $1', [runId]);
        // Waits on the key rows the uncommitted delete holds, then finds them gone.
        const pending = insertMetricPoints(pool, runId, [{ key: 'loss', step: 1, value: 2 }], { method });
        await deleter.query('COMMIT');
        await expect(pending).rejects.toThrow(/does not exist/);
      } finally {
        deleter.release();
      }
      expect(await orphans()).toEqual({ points: 0, rollups: 0 });
    }
  });
});

describe('concurrent writers', () => {
  it('store each point once and keep rollups exact when batches of one run overlap', async () => {
    const runId = await insertTestRun(pool);
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 400 }, (_, i) => ({
        key: i % 2 ? 'loss' : 'lr',
        step: b * 150 + Math.floor(i / 2),
        value: b + i,
      })),
    );
    const results = await Promise.all(
      batches.map((batch, i) => insertMetricPoints(pool, runId, batch, { method: i % 2 ? 'copy' : 'unnest' })),
    );
    const distinct = new Set(batches.flat().map((p) => `${p.key}:${p.step}`)).size;
    expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(distinct);
    expect((await rawRows(runId)).length).toBe(distinct);
    const ref = await referenceBuckets(pool, runId, ['loss', 'lr'], levelShift(1), 0, 2 ** 31 - 1);
    const level1 = (await rollupRows(runId)).filter((r) => r.level === 1);
    expect(level1.map((r) => [r.key, r.bucket, r.count, r.min, r.max, r.last_value])).toEqual(
      ref.map((r) => [r.key, r.bucket, r.count, r.min, r.max, r.last]),
    );
  });
});

describe('copyMetrics', () => {
  it('copies series up to a step into a fork, with rollups equal to its raw points, idempotently', async () => {
    const parent = await insertTestRun(pool);
    const fork = await insertTestRun(pool);
    const points = Array.from({ length: 2000 }, (_, step) => [
      { key: 'loss', step, value: Math.cos(step / 100) },
      { key: 'lr', step, value: step % 7 === 0 ? NaN : 1e-4 },
    ]).flat();
    await insertMetricPoints(pool, parent, points);
    expect(await copyMetrics(pool, parent, fork, { toStep: 1234 })).toEqual({ inserted: 2 * 1235 });
    expect(await copyMetrics(pool, parent, fork, { toStep: 1234 })).toEqual({ inserted: 0 });
    expect(await listMetricKeys(pool, fork)).toEqual(['loss', 'lr']);
    expect((await latestMetrics(pool, fork, ['loss']))[0]!.step).toBe(1234);
    for (let level = 1; level <= ROLLUP_LEVELS; level++) {
      const stored = (await rollupRows(fork)).filter((r) => r.level === level);
      const ref = await referenceBuckets(pool, fork, ['loss', 'lr'], levelShift(level), 0, 2 ** 31 - 1);
      expect(stored.map((r) => [r.key, r.bucket, r.count, r.non_finite, r.min, r.max, r.last_value])).toEqual(
        ref.map((r) => [r.key, r.bucket, r.count, r.nonFinite, r.min, r.max, r.last]),
      );
    }
    // The fork continues from there; the parent is untouched.
    expect(
      (
        await insertMetricPoints(pool, fork, [
          { key: 'loss', step: 1234, value: 9 },
          { key: 'loss', step: 1235, value: 9 },
        ])
      ).inserted,
    ).toBe(1);
    expect((await rawRows(parent)).length).toBe(4000);
    await expect(copyMetrics(pool, parent, parent, { toStep: 1 })).rejects.toThrow(/toRunId: must differ/);
  });
});
