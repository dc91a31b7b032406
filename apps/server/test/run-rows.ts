import type { RunConfig } from '@dapple/contracts/run-config';
import { runs, sampleGrids, type Db, type Run } from '@dapple/db';
import sharp from 'sharp';
import { sampleGridKey } from '../src/services/runs/objects.ts';
import type { TestHub } from './support/hub.ts';

// Run rows and sample grids put in place directly, as the scheduler and a trainer leave them, for tests and
// benches about what is shown or done with runs rather than about training them.

interface RunFields {
  teamId: string;
  createdBy: string;
  name: string;
  config: RunConfig;
  datasetVersionId?: string;
  seed?: number;
}

/**
 * A run in `running` as the scheduler leaves it when it starts a trainer (attempt 1, heartbeat now), at `step`,
 * with no process behind it.
 */
export async function insertRunningRun(db: Db, fields: RunFields & { step?: number }): Promise<Run> {
  const [run] = await db
    .insert(runs)
    .values({
      seed: 1,
      ...fields,
      status: 'running',
      attempt: 1,
      totalSteps: fields.config.steps,
      startedAt: new Date(),
      lastHeartbeatAt: new Date(),
    })
    .returning();
  return run!;
}

/** A run that finished all its steps (seed 7 unless given), as a trainer would have left it. */
export async function insertSucceededRun(db: Db, fields: RunFields): Promise<Run> {
  const [run] = await db
    .insert(runs)
    .values({
      seed: 7,
      ...fields,
      status: 'succeeded',
      totalSteps: fields.config.steps,
      step: fields.config.steps,
      finishedAt: new Date(),
    })
    .returning();
  return run!;
}

/**
 * A sample grid of the run at `step`, stored and recorded as the trainer uploads it: a `side`×`side` RGB PNG of
 * one colour (tests tell grids apart by it) drawn from `seeds`.
 */
export async function storeSampleGrid(
  hub: TestHub,
  runId: string,
  step: number,
  grid: { side: number; height?: number; background: { r: number; g: number; b: number }; seeds: number[] },
): Promise<void> {
  const { side, background, seeds } = grid;
  const height = grid.height ?? side;
  const png = await sharp({ create: { width: side, height, channels: 3, background } })
    .png()
    .toBuffer();
  const objectKey = sampleGridKey(runId, step);
  await hub.store.put(objectKey, png, { size: png.length });
  await hub.db.insert(sampleGrids).values({ runId, step, objectKey, seeds, width: side, height });
}
