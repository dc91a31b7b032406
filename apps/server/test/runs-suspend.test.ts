import { readFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { checkpoints, runs } from '@dapple/db';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  annWithDataset,
  killTrainers,
  ok,
  ownDiskStore,
  START_RUN,
  testRunsConfig,
  tinyConfig,
  waitForRun,
} from './runs-fixtures.ts';

/**
 * `npm start` owns its machine: Ctrl-C closes the hub with `stopTrainers`, which must not leave trainers training
 * on. They checkpoint, exit, and their runs wait in the queue; the next hub resumes them from that checkpoint.
 */
let db: TestDatabase | undefined;
let removeStore: (() => Promise<void>) | undefined;
let runsConfig: Awaited<ReturnType<typeof testRunsConfig>> | undefined;
let hub: TestHub | undefined;

afterAll(async () => {
  if (db) await killTrainers({ db: db.db });
  await hub?.close();
  await db?.drop();
  await removeStore?.();
  await runsConfig?.cleanup();
});

/** A process that exited but is not reaped yet (a zombie child of this test process) counts as gone. */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
};

describe('closing the hub with stopTrainers', () => {
  it('checkpoints and stops the trainers, re-queues their runs, and the next hub resumes them from that checkpoint', async () => {
    db = await createTestDatabase();
    const own = await ownDiskStore('dapple-suspend-store-');
    removeStore = own.remove;
    const { store, port } = own;
    runsConfig = await testRunsConfig();
    const open = () => startTestHub({ databaseUrl: db!.connectionString, store, port, runs: runsConfig });
    hub = await open();
    const { ann, versionId } = await annWithDataset(hub);
    const input = {
      datasetVersionId: versionId,
      name: 'suspended',
      seed: 5,
      config: tinyConfig({ steps: 4000, checkpointEvery: 100_000, sampleEvery: 100_000 }),
    };
    const id = ok(await ann.client.request(START_RUN, { input })).startRun.id as string;
    const running = await waitForRun(hub, id, (r) => r.status === 'running' && r.step >= 10, 'past step 10');

    await hub.close({ stopTrainers: true });
    hub = undefined;
    expect(alive(Number(running.executorHandle))).toBe(false);
    const { createDb } = await import('@dapple/db');
    const direct = createDb(db.connectionString, { max: 1 });
    try {
      const [stopped] = await direct.db.select().from(runs).where(eq(runs.id, id));
      expect(stopped!.status, stopped!.error ?? '').toBe('queued');
      // checkpointEvery is far beyond the steps: besides the step-0 baseline, any checkpoint is the one the
      // trainer wrote on SIGTERM.
      const saved = await direct.db
        .select()
        .from(checkpoints)
        .where(eq(checkpoints.runId, id))
        .orderBy(checkpoints.step);
      expect(saved.map((c) => c.step)).toEqual([0, expect.any(Number)]);
      const savedStep = saved[1]!.step;
      expect(savedStep).toBeGreaterThanOrEqual(10);

      // The next hub resumes it from that checkpoint as attempt 2 (not from step 0).
      hub = await open();
      const resumed = await waitForRun(
        hub,
        id,
        (r) => r.attempt === 2 && r.status === 'running' && r.step > savedStep,
        'resumed past the checkpoint',
      );
      expect(resumed.step).toBeGreaterThan(savedStep);
    } finally {
      await direct.close();
    }
  }, 360_000);
});
