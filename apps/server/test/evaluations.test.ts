import { tinyGraphModel } from '@dapple/models/metrics/extractors/tiny-graph-model';
import { evaluations } from '@dapple/db';
import { errorCode } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { publishTinyVersion, readyNoiseDataset } from './sampling-fixtures.ts';

const INCEPTION_KEY = 'extractors/tiny-inception/model.json';

let hub: TestHub;
let ann: SignedInUser;
let vic: SignedInUser;
let eve: SignedInUser;
let modelId: string;
let versionId: string;
let datasetVersionId: string;
let smallDatasetVersionId: string;
let otherResolutionId: string;

beforeAll(async () => {
  hub = await startTestHub({
    runs: { executor: false },
    jobs: { pollingIntervalSeconds: 0.5 },
    sampling: { workers: 1 },
    evaluation: { inception: { objectKey: INCEPTION_KEY, label: 'tiny-graph' } },
  });
  ann = await signUpUser(hub, 'Ann');
  vic = await signUpUser(hub, 'Vic');
  eve = await signUpUser(hub, 'Eve');
  const teamId = await createTeam(ann, 'Lab', 'lab');
  await addMember(ann, teamId, vic, 'VIEWER');
  const published = await publishTinyVersion(hub, teamId, ann.id);
  modelId = published.modelId;
  versionId = published.version.id;
  ({ versionId: datasetVersionId } = await readyNoiseDataset(hub, teamId, { n: 24 }));
  ({ versionId: smallDatasetVersionId } = await readyNoiseDataset(hub, teamId, { n: 10, seed: 2 }));
  ({ versionId: otherResolutionId } = await readyNoiseDataset(hub, teamId, { resolution: 16, n: 10 }));
  // A converted graph model in the store, standing in for InceptionV3 (same loader, same object-key path).
  const { modelJson, weights } = tinyGraphModel([
    [1, 0, 0, 1],
    [0, 1, 0, -1],
    [0, 0, 1, 0.5],
  ]);
  const json = Buffer.from(JSON.stringify(modelJson));
  await hub.store.put(INCEPTION_KEY, json, { size: json.length });
  await hub.store.put('extractors/tiny-inception/group1-shard1of1.bin', Buffer.from(weights), { size: weights.length });
});
afterAll(async () => {
  await hub?.close();
});

const EVALUATE = `mutation ($input: EvaluateModelInput!) { evaluateModel(input: $input) { id status numSamples extractor comparableKey } }`;
const EVALUATION = `query ($id: ID!) { evaluation(id: $id) {
  id status error numSamples samplesDone extractor paperComparable comparableKey fid kid { mean std } inceptionScore { mean std } realInceptionScore { mean std } steps sampler seed
} }`;
type Ev = {
  id: string;
  status: string;
  error: string | null;
  numSamples: number;
  samplesDone: number;
  extractor: string;
  paperComparable: boolean;
  comparableKey: string;
  fid: number | null;
  kid: { mean: number; std: number } | null;
  inceptionScore: { mean: number; std: number } | null;
  realInceptionScore: { mean: number; std: number } | null;
};

async function evaluate(user: SignedInUser, input: Record<string, unknown>) {
  return user.client.request<{
    evaluateModel: { id: string; status: string; extractor: string; comparableKey: string };
  }>(EVALUATE, { input: { modelVersionId: versionId, datasetVersionId, ...input } });
}

async function waitFinished(id: string): Promise<Ev> {
  for (;;) {
    const res = await ann.client.request<{ evaluation: Ev }>(EVALUATION, { id });
    expect(res.errors).toBeUndefined();
    const e = res.data!.evaluation;
    if (e.status === 'SUCCEEDED' || e.status === 'FAILED') return e;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('evaluateModel', () => {
  it('computes KID (mean ± std), FID and IS with the offline extractor and stores them with its name and the sample count', async () => {
    const res = await evaluate(vic, { numSamples: 12, steps: 5 });
    expect(res.errors?.[0]?.message).toBeUndefined();
    expect(res.data!.evaluateModel).toMatchObject({
      status: 'QUEUED',
      extractor: expect.stringMatching(/^offline:random-conv-v1/),
    });
    const e = await waitFinished(res.data!.evaluateModel.id);
    expect(e.error).toBeNull();
    expect(e).toMatchObject({ status: 'SUCCEEDED', numSamples: 12, samplesDone: 12, paperComparable: false });
    expect(e.extractor).toBe('offline:random-conv-v1(seed=0,dims=64,width=32)+random-softmax-is-v1(classes=10,t=1)');
    expect(e.comparableKey).toMatch(/^offline:.*\|n=12\|data=[0-9a-f]{64}$/);
    expect(e.fid!).toBeGreaterThan(0);
    expect(Number.isFinite(e.kid!.mean) && e.kid!.std >= 0).toBe(true);
    expect(e.inceptionScore!.mean).toBeGreaterThanOrEqual(1);
    expect(e.realInceptionScore!.mean).toBeGreaterThanOrEqual(1);
    // The row holds the numbers, not just the API.
    const rows = await hub.db.select().from(evaluations);
    expect(rows.find((r) => r.id === e.id)).toMatchObject({
      extractor: e.extractor,
      numSamples: 12,
      fid: e.fid,
      kidMean: e.kid!.mean,
      isMean: e.inceptionScore!.mean,
    });

    // Same settings, same numbers (fixed default seed).
    const again = await waitFinished((await evaluate(ann, { numSamples: 12, steps: 5 })).data!.evaluateModel.id);
    expect([again.fid, again.kid, again.inceptionScore]).toEqual([e.fid, e.kid, e.inceptionScore]);
  }, 240_000);

  it('uses an InceptionV3-style graph model from the object store, and never groups its numbers with other extractors or counts', async () => {
    const res = await evaluate(ann, { numSamples: 12, steps: 5, extractor: 'INCEPTION' });
    expect(res.errors?.[0]?.message).toBeUndefined();
    const e = await waitFinished(res.data!.evaluateModel.id);
    expect(e.error).toBeNull();
    expect(e.extractor).toBe('tiny-graph(pool=pool_3,logits=logits,299px,bilinear)');
    expect(e.paperComparable).toBe(false); // 3-d features, not InceptionV3's 2048
    expect(e.fid).not.toBeNull();
    const other = await waitFinished((await evaluate(ann, { numSamples: 16, steps: 5 })).data!.evaluateModel.id);
    expect(other.status).toBe('SUCCEEDED');

    const groups = await ann.client.request<{
      comparableEvaluations: {
        comparableKey: string;
        extractor: string;
        numSamples: number;
        evaluations: { id: string }[];
      }[];
    }>(
      `query ($id: ID!) { comparableEvaluations(modelId: $id) { comparableKey extractor numSamples evaluations { id } } }`,
      { id: modelId },
    );
    expect(groups.errors).toBeUndefined();
    const byKey = groups.data!.comparableEvaluations.map((g) => [
      g.extractor.split('(')[0],
      g.numSamples,
      g.evaluations.length,
    ]);
    expect(byKey.sort()).toEqual(
      [
        ['offline:random-conv-v1', 12, 2],
        ['offline:random-conv-v1', 16, 1],
        ['tiny-graph', 12, 1],
      ].sort(),
    );
  }, 240_000);

  it.each([
    ['too few samples', { numSamples: 5 }, 'numSamples', /at least 10/],
    ['more samples than the dataset has', { numSamples: 11, datasetVersionId: 'SMALL' }, 'numSamples', /has 10 images/],
    [
      'a dataset of another resolution',
      { numSamples: 10, datasetVersionId: 'OTHER' },
      'datasetVersionId',
      /16×16×3, the model makes 8×8×3/,
    ],
    ['steps beyond the model', { numSamples: 10, steps: 101 }, 'steps', /timesteps \(100\)/],
  ])('refuses %s naming the field', async (_w, input: Record<string, unknown>, field, message) => {
    const dv =
      input.datasetVersionId === 'SMALL'
        ? smallDatasetVersionId
        : input.datasetVersionId === 'OTHER'
          ? otherResolutionId
          : datasetVersionId;
    const res = await evaluate(ann, { ...input, datasetVersionId: dv });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe(field);
    expect(res.errors?.[0]?.message).toMatch(message);
  });

  it('an outsider can neither evaluate nor read evaluations', async () => {
    expect(errorCode(await evaluate(eve, { numSamples: 10 }))).toBe('NOT_FOUND');
    const rows = await hub.db.select().from(evaluations);
    expect(errorCode(await eve.client.request(EVALUATION, { id: rows[0]!.id }))).toBe('NOT_FOUND');
  });
});
