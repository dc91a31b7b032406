import * as tf from '@tensorflow/tfjs';
import type { PrecisionChoice } from '@dapple/models';
import { DataParallelTrainer } from '@dapple/models/parallel';
import { checkpoints, metricKeys, metricPoints, runs } from '@dapple/db';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, START_RUN, tinyConfig, type SignedInUser, type TestHub } from '@dapple/server/testing';
import type { TrainHooks } from '../src/train.ts';
import { hubWithDataset, maxAbsDiff, storedCheckpoint, trainAttempt } from './hub-run.ts';

/**
 * The trainer with data-parallel CPU workers (worker threads, TF.js wasm each) against a real hub: what it
 * reports, and what happens when a worker dies mid-run.
 */
let hub: TestHub;
let ann: SignedInUser;
let datasetVersionId: string;

beforeAll(async () => {
  ({ hub, ann, datasetVersionId } = await hubWithDataset('trainer-cpu-workers', { n: 16 }));
});
afterAll(async () => {
  await hub?.close();
});

const startRun = async (config: Record<string, unknown>, seed = 11) =>
  ok(
    await ann.client.request<{ startRun: { id: string } }>(START_RUN, {
      input: { datasetVersionId, name: 'cpu-workers', seed, config },
    }),
  ).startRun.id;

async function metric(runId: string, key: string): Promise<number[]> {
  const rows = await hub.db
    .select({ value: metricPoints.value })
    .from(metricPoints)
    .innerJoin(metricKeys, eq(metricKeys.id, metricPoints.keyId))
    .where(and(eq(metricKeys.runId, runId), eq(metricKeys.key, key)))
    .orderBy(asc(metricPoints.step));
  return rows.map((r) => r.value);
}

async function checkpointSteps(runId: string): Promise<number[]> {
  const rows = await hub.db.select({ step: checkpoints.step }).from(checkpoints).where(eq(checkpoints.runId, runId));
  return rows.map((r) => r.step).sort((a, b) => a - b);
}

describe('data-parallel CPU workers in the trainer', () => {
  it("trains with 2 workers, reports cpu_workers, per-worker img/s and rank 0's precision, and matches a 1-worker run", async () => {
    // mixed-f16 asked for: wasm trains in fp32, and the compute: line must say what the trainer resolved.
    const config = tinyConfig({ steps: 4, checkpointEvery: 4, sampleEvery: 4, precision: 'MIXED_F16' });
    const two = await startRun(config);
    const resolved: PrecisionChoice[] = [];
    const hooks: TrainHooks = {
      afterStep: (step, trainer) => {
        if (step === 1) resolved.push(trainer.precision);
      },
    };
    const attempt = await trainAttempt(hub, two, { backend: 'wasm', cpuWorkers: 2, cpuVerifyEvery: 1, hooks });
    expect(attempt).toMatchObject({ outcome: 'succeeded', step: 4 });
    expect(attempt.log.join('\n')).toMatch(/CPU workers: 2 \(DAPPLE_CPU_WORKERS=2, batch 8/);
    const wasmNote =
      'precision fp32 (mixed-f16 requested, but it needs the webgpu backend and this is wasm: training in fp32)';
    expect(resolved).toEqual([{ requested: 'mixed-f16', active: 'fp32', note: wasmNote }]);
    expect(attempt.log.filter((l) => l.startsWith('compute:'))).toEqual([`compute: wasm; ${wasmNote}`]);
    expect(await metric(two, 'cpu_workers')).toContain(2);
    const perWorker = await metric(two, 'worker_images_per_sec');
    expect(perWorker.length).toBeGreaterThan(0);
    expect(perWorker.every((v) => v > 0)).toBe(true);

    // The same run (seed, data order) on one worker: the same weights up to float summation order
    // (packages/models/src/parallel/data-parallel.test.ts explains the bound).
    const one = await startRun(config);
    const single = await trainAttempt(hub, one, { backend: 'wasm', cpuWorkers: 1, hooks });
    expect(single).toMatchObject({ step: 4 });
    expect(resolved[1]).toEqual(resolved[0]);
    expect(single.log.filter((l) => l.startsWith('compute:'))).toEqual([`compute: wasm; ${wasmNote}`]);
    const [a, b] = [await storedCheckpoint(hub, two, 4), await storedCheckpoint(hub, one, 4)];
    try {
      expect(maxAbsDiff(a.variables, b.variables)).toBeLessThan(1e-2 * 2e-4 * 4); // lr 2e-4, 4 steps
      expect(maxAbsDiff(a.variables, b.variables)).toBeLessThan(maxAbsDiff(a.variables, a.ema!)); // ≪ what training moved
    } finally {
      tf.dispose(
        [a, b].flatMap((c) => [...c.variables.values(), ...(c.ema?.values() ?? []), ...(c.optimizer?.values() ?? [])]),
      );
    }
  }, 300_000);

  it('a worker killed mid-run fails the attempt with a clear error; nothing after the last checkpoint is saved; resuming continues from it', async () => {
    const id = await startRun(tinyConfig({ steps: 7, checkpointEvery: 3, sampleEvery: 100 }));
    const failed = trainAttempt(hub, id, {
      backend: 'wasm',
      cpuWorkers: 2,
      hooks: {
        afterStep: (step, trainer) => {
          // Killed while step 5 runs (terminate takes effect while this thread computes its own slice).
          if (step === 4) void (trainer as DataParallelTrainer).threads[0]!.terminate();
        },
      },
    });
    await expect(failed).rejects.toThrow(/CPU worker 2 of 2 .*stopped .*step 5 failed/);
    const row = (await hub.db.select().from(runs).where(eq(runs.id, id)))[0]!;
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/CPU worker 2 of 2/);
    // Step 0's (every run saves the untrained weights) and step 3's: step 4 was whole but not due, step 5 never completed.
    expect(await checkpointSteps(id)).toEqual([0, 3]);

    ok(await ann.client.request(`mutation ($id: ID!) { resumeRun(id: $id) { status } }`, { id }));
    const resumed = await trainAttempt(hub, id, { backend: 'wasm', cpuWorkers: 2 });
    expect(resumed).toMatchObject({ outcome: 'succeeded', step: 7 });
    expect(resumed.log.join('\n')).toMatch(/resumed from the checkpoint of step 3/);
    // Plain fp32 (the default) adds nothing to the line: the run page shows its text as the run's compute.
    expect(resumed.log.filter((l) => l.startsWith('compute:'))).toEqual(['compute: wasm']);
    expect(await checkpointSteps(id)).toEqual([0, 6, 7]); // keepCheckpoints 2, and step 0
  }, 300_000);
});
