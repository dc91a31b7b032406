import { errorCode } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { twoClassImages } from './runs-class-fixtures.ts';
import { ok, readyDatasetVersion, START_RUN, tinyConfig } from './runs-fixtures.ts';

// No executor: only startRun's validation and what it stores.
let hub: TestHub;
let ann: SignedInUser;
let unlabelled: string;
let labelled: string;

const CONFIG = `query ($id: ID!) { run(id: $id) { config { conditioning numClasses labelDropout json } } }`;
const start = (datasetVersionId: string, config: Record<string, unknown>) =>
  ann.client.request<{ startRun: { id: string } }>(START_RUN, { input: { datasetVersionId, name: 'c', config } });
const configOf = async (id: string) =>
  ok(await ann.client.request<{ run: { config: Record<string, unknown> } }>(CONFIG, { id })).run.config;

beforeAll(async () => {
  hub = await startTestHub({ runs: { executor: false } });
  ann = await signUpUser(hub, 'Ann');
  const teamId = await createTeam(ann, 'Lab', 'cond-lab');
  ({ versionId: unlabelled } = await readyDatasetVersion(hub, teamId, { n: 8 }));
  ({ versionId: labelled } = await readyDatasetVersion(hub, teamId, { images: await twoClassImages(8, 8) }));
});
afterAll(async () => {
  await hub?.close();
});

describe('run config conditioning', () => {
  it('defaults to class on a dataset with 2 labels and to none without labels, and stores the choice', async () => {
    const cls = await configOf(ok(await start(labelled, tinyConfig())).startRun.id);
    expect(cls).toMatchObject({ conditioning: 'CLASS', numClasses: 2, labelDropout: 0.1 });
    // The whole stored config, as an object with the schema's own values.
    expect(cls['json']).toMatchObject({ preset: 'tiny', conditioning: 'class', numClasses: 2 });
    expect(await configOf(ok(await start(unlabelled, tinyConfig())).startRun.id)).toMatchObject({
      conditioning: 'NONE',
      numClasses: null,
    });
    expect(await configOf(ok(await start(labelled, tinyConfig({ conditioning: 'NONE' }))).startRun.id)).toMatchObject({
      conditioning: 'NONE',
      numClasses: null,
    });
  });

  it.each([
    [
      'class conditioning on an unlabelled dataset',
      () => unlabelled,
      { conditioning: 'CLASS' },
      'config.conditioning',
      /has no labels .*use conditioning none, or upload one folder per class/,
    ],
    [
      'a class count other than the dataset’s',
      () => labelled,
      { conditioning: 'CLASS', numClasses: 3 },
      'config.numClasses',
      /has 2 labels \(top, bottom\), not 3/,
    ],
    [
      'classes without class conditioning',
      () => labelled,
      { conditioning: 'NONE', numClasses: 2 },
      'config.numClasses',
      /only class-conditional runs/,
    ],
    [
      'an unknown conditioning',
      () => labelled,
      { conditioning: 'text' },
      'config.conditioning',
      /invalid value "text" at "input.config.conditioning"; Value "text" does not exist in "Conditioning" enum/,
    ],
    ['a label dropout above 1', () => labelled, { labelDropout: 1.5 }, 'config.labelDropout', /at most 1/],
  ])('refuses %s, naming the field', async (_what, dataset, overrides, field, message) => {
    const res = await start(dataset(), tinyConfig(overrides));
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe(field);
    expect(res.errors?.[0]?.message).toMatch(message);
  });
});
