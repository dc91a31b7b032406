import { startTestHub, type TestHub } from '@dapple/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { killTrainers, ok, readyDatasetVersion, RUN, START_RUN, testRunsConfig, tinyConfig, waitForRun } from './runs-fixtures.ts';

let hub: TestHub;
let ann: SignedInUser;
let teamId: string;
let runsConfig: Awaited<ReturnType<typeof testRunsConfig>>;

beforeAll(async () => {
  runsConfig = await testRunsConfig();
  hub = await startTestHub({ runs: runsConfig });
  ann = await signUpUser(hub, 'Ann');
  teamId = await createTeam(ann, 'Lab', 'lab');
});
afterAll(async () => {
  if (hub) await killTrainers(hub);
  await hub?.close();
  await runsConfig?.cleanup();
});

describe('a run end to end (smoke)', () => {
  it('trains a tiny model to succeeded with metrics, checkpoints and grids', async () => {
    const { versionId } = await readyDatasetVersion(hub, teamId);
    const started = ok(await ann.client.request(START_RUN, { input: { datasetVersionId: versionId, name: 'smoke', seed: 7, config: tinyConfig({ steps: 20 }) } }));
    const id = started.startRun.id;
    const done = await waitForRun(hub, id, (r) => ['succeeded', 'failed', 'cancelled'].includes(r.status), 'finished');
    const view = ok(await ann.client.request(RUN, { id }));
    expect(done.status, JSON.stringify(view.run.logs.map((l: { line: string }) => l.line))).toBe('succeeded');
    expect(view.run.checkpoints.map((c: { step: number }) => c.step)).toEqual([10, 20]);
    expect(view.run.sampleGrids.map((g: { step: number }) => g.step)).toEqual([0, 20]);
  });
});
