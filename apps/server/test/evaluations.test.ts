import { tinyGraphModel } from '@dapple/models/extractors';
import { evaluations, sampleJobs } from '@dapple/db';
import { eq } from 'drizzle-orm';
import { errorCode } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { twoClassNoisyImages } from './runs-class-fixtures.ts';
import { readyDatasetVersion } from './runs-fixtures.ts';
import { GENERATE, publishTinyVersion, readyNoiseDataset, tinyUNet } from './sampling-fixtures.ts';

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
let conditionalVersionId: string;
let conditionalModelId: string;
let labelledDatasetVersionId: string;
let slowVersionId: string;

beforeAll(async () => {
  hub = await startTestHub({
    runs: { executor: false },
    jobs: { pollingIntervalSeconds: 0.5 },
    sampling: { workers: 1 },
    // A small classifier budget: the mechanism is what these tests check (docs/evaluation.md measures the default's).
    evaluation: { inception: { objectKey: INCEPTION_KEY, label: 'tiny-graph' }, classifier: { steps: 60 } },
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
  // A class-conditional model (labels top, bottom) and a labelled dataset with the same two classes.
  const conditional = await publishTinyVersion(hub, teamId, ann.id, {
    unet: tinyUNet({ numClasses: 2 }),
    labelNames: ['top', 'bottom'],
  });
  conditionalVersionId = conditional.version.id;
  conditionalModelId = conditional.modelId;
  ({ versionId: labelledDatasetVersionId } = await readyDatasetVersion(hub, teamId, {
    channels: 3,
    images: await twoClassNoisyImages(40, 8),
  }));
  slowVersionId = (await publishTinyVersion(hub, teamId, ann.id, { timesteps: 1000 })).version.id;
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

const EVALUATE = `mutation ($input: EvaluateModelInput!) { evaluateModel(input: $input) { id status queuePosition numSamples extractor comparableKey } }`;
const EVALUATION = `query ($id: ID!) { evaluation(id: $id) {
  id status error queuePosition numSamples samplesDone extractor paperComparable comparableKey fid kid { mean std }
  kidSubsetSize kidSubsetsDiffer inceptionScore { mean std } realInceptionScore { mean std } steps sampler eta seed guidance labelSet
  classifier { name heldOutAccuracy objectKey reused }
  sampleAccuracy { accuracy chance perClass { label name count correct accuracy } }
  datasetInceptionScore { mean std } realDatasetInceptionScore { mean std } startedAt finishedAt
  phase phases { phase startedAt seconds }
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
  kidSubsetSize: number | null;
  kidSubsetsDiffer: boolean | null;
  inceptionScore: { mean: number; std: number } | null;
  realInceptionScore: { mean: number; std: number } | null;
  guidance: number | null;
  labelSet: string;
  sampler: string;
  classifier: { name: string; heldOutAccuracy: number; objectKey: string; reused: boolean } | null;
  sampleAccuracy: {
    accuracy: number;
    chance: number;
    perClass: { label: number; name: string; count: number; correct: number; accuracy: number }[];
  } | null;
  datasetInceptionScore: { mean: number; std: number } | null;
  realDatasetInceptionScore: { mean: number; std: number } | null;
  startedAt: string | null;
  finishedAt: string | null;
  phase: string | null;
  phases: { phase: string; startedAt: string; seconds: number }[];
};

/** A finished evaluation's phases in order, each starting where the one before ended, none longer than the whole. */
function expectPhases(e: Ev, names: string[]) {
  expect(e.phases.map((p) => p.phase)).toEqual(names);
  const total = (Date.parse(e.finishedAt!) - Date.parse(e.startedAt!)) / 1000;
  const sum = e.phases.reduce((s, p) => s + p.seconds, 0);
  for (const p of e.phases) expect(p.seconds).toBeGreaterThanOrEqual(0);
  expect(sum).toBeLessThanOrEqual(total + 1e-3);
  expect(e.phase).toBeNull(); // only running, failed and cancelled ones say where they are
}

async function evaluate(user: SignedInUser, input: Record<string, unknown>) {
  return user.client.request<{
    evaluateModel: {
      id: string;
      status: string;
      queuePosition: number | null;
      extractor: string;
      comparableKey: string;
    };
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
  it('defaults to the pretrained extractor: KID over subsets that differ, FID, no IS (no class head), no classifier on an unlabelled dataset', async () => {
    const res = await evaluate(vic, { numSamples: 12, steps: 5 });
    expect(res.errors?.[0]?.message).toBeUndefined();
    expect(res.data!.evaluateModel.extractor).toMatch(/^pretrained:mobilenet-v2\(nsfwjs@/);
    const e = await waitFinished(res.data!.evaluateModel.id);
    expect(e.error).toBeNull();
    expect(e).toMatchObject({
      status: 'SUCCEEDED',
      samplesDone: 12,
      paperComparable: false,
      inceptionScore: null,
      realInceptionScore: null,
      classifier: null,
      sampleAccuracy: null,
      datasetInceptionScore: null,
      labelSet: 'unconditional',
      guidance: null,
      sampler: 'DPMPP-2M-SDE',
      kidSubsetSize: 6, // min(1000, n/2): subsets that really differ
      kidSubsetsDiffer: true,
    });
    expect(e.comparableKey).toMatch(
      /^pretrained:mobilenet-v2.*\|n=12\|data=[0-9a-f]{64}\|sampler=dpmpp-2m-sde\|steps=5\|eta=0\|guidance=none\|labels=unconditional\|classifier=none$/,
    );
    expect(e.kid!.std).toBeGreaterThan(1e-6);
    expect(e.fid!).toBeGreaterThan(0);
    expectPhases(e, ['GENERATING', 'MEASURING']);
  }, 600_000); // the first evaluation loads MobileNetV2 into the worker: minutes on a loaded 2-core machine

  it('computes KID (mean ± std), FID and IS with the offline extractor (still selectable) and stores them with its name and the sample count', async () => {
    const res = await evaluate(vic, { numSamples: 12, steps: 5, extractor: 'OFFLINE' });
    expect(res.errors?.[0]?.message).toBeUndefined();
    expect(res.data!.evaluateModel).toMatchObject({
      status: 'QUEUED',
      extractor: expect.stringMatching(/^offline:random-conv-v1/),
    });
    const e = await waitFinished(res.data!.evaluateModel.id);
    expect(e.error).toBeNull();
    expect(e).toMatchObject({ status: 'SUCCEEDED', numSamples: 12, samplesDone: 12, paperComparable: false });
    expect(e.extractor).toBe('offline:random-conv-v1(seed=0,dims=64,width=32)+random-softmax-is-v1(classes=10,t=1)');
    expect(e.comparableKey).toMatch(
      /^offline:.*\|n=12\|data=[0-9a-f]{64}\|sampler=dpmpp-2m-sde\|steps=5\|eta=0\|guidance=none\|labels=unconditional\|classifier=none$/,
    );
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
    const again = await waitFinished(
      (await evaluate(ann, { numSamples: 12, steps: 5, extractor: 'OFFLINE' })).data!.evaluateModel.id,
    );
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
    const other = await waitFinished(
      (await evaluate(ann, { numSamples: 16, steps: 5, extractor: 'OFFLINE' })).data!.evaluateModel.id,
    );
    expect(other.status).toBe('SUCCEEDED');
    // Same extractor and count, another sampler: samples made another way are another group.
    const ddim = await waitFinished(
      (await evaluate(ann, { numSamples: 12, steps: 5, extractor: 'OFFLINE', sampler: 'ddim' })).data!.evaluateModel.id,
    );
    expect(ddim.status).toBe('SUCCEEDED');

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
        ['offline:random-conv-v1', 12, 1],
        ['offline:random-conv-v1', 12, 2],
        ['offline:random-conv-v1', 16, 1],
        ['pretrained:mobilenet-v2', 12, 1],
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

describe('conditional models and the dataset classifier', () => {
  // The offline extractor: these tests are about labels, guidance and the dataset classifier, which work the same
  // with every extractor; the pretrained one (MobileNetV2 at 128 px, covered above) cost ~50 s of CPU here.
  const evaluateConditional = async (input: Record<string, unknown>) => {
    const res = await evaluate(ann, {
      modelVersionId: conditionalVersionId,
      datasetVersionId: labelledDatasetVersionId,
      extractor: 'OFFLINE',
      ...input,
    });
    expect(res.errors?.[0]?.message).toBeUndefined();
    return res;
  };

  it('samples all labels evenly with the default guidance, trains the dataset classifier once, caches it in the store and reuses it', async () => {
    const first = await waitFinished((await evaluateConditional({ numSamples: 12, steps: 5 })).data!.evaluateModel.id);
    expect(first.error).toBeNull();
    expect(first).toMatchObject({ status: 'SUCCEEDED', labelSet: 'all(2)', guidance: 3 });
    expectPhases(first, ['CLASSIFIER', 'GENERATING', 'MEASURING']);
    expect(first.comparableKey).toMatch(
      /\|guidance=3\|labels=all\(2\)\|classifier=dataset-classifier-v1-steps60-max5000$/,
    );
    // Trained here, on the version's 32 labelled training images, and written to the object store.
    expect(first.classifier).toMatchObject({ reused: false });
    expect(first.classifier!.name).toMatch(/^dataset-classifier-v1\(8px,c=3,k=2,seed=0,steps=60,n=32\)$/);
    // The two classes (a bright top or bottom half) are easy: the classifier must see them on real images.
    expect(first.classifier!.heldOutAccuracy).toBeGreaterThanOrEqual(0.75);
    expect(first.classifier!.objectKey).toMatch(
      /^datasets\/[0-9a-f-]+\/v1\/classifiers\/dataset-classifier-v1-steps60-max5000\/model\.json$/,
    );
    expect(await hub.store.stat(first.classifier!.objectKey)).not.toBeNull();
    expect(await hub.store.stat(first.classifier!.objectKey.replace('model.json', 'weights.bin'))).not.toBeNull();
    // Six samples per class, each class by its name; accuracy is the share classified as the class asked for.
    const acc = first.sampleAccuracy!;
    expect(acc.chance).toBe(0.5);
    expect(acc.perClass.map((c) => [c.label, c.name, c.count])).toEqual([
      [0, 'top', 6],
      [1, 'bottom', 6],
    ]);
    expect(acc.accuracy).toBeCloseTo((acc.perClass[0]!.correct + acc.perClass[1]!.correct) / 12, 10);
    // Dataset IS: 1…K. With 12 images IS has 6 splits of 2 (a split of one class scores 1, of both 2), so
    // real images, confidently classified, land between.
    expect(first.datasetInceptionScore!.mean).toBeGreaterThanOrEqual(1);
    expect(first.datasetInceptionScore!.mean).toBeLessThanOrEqual(2);
    expect(first.realDatasetInceptionScore!.mean).toBeGreaterThan(1.1);
    expect(first.realDatasetInceptionScore!.mean).toBeLessThanOrEqual(2);

    // Another evaluation of the same dataset version loads the cached classifier instead of training again.
    const bytesBefore = await hub.store.stat(first.classifier!.objectKey.replace('model.json', 'weights.bin'));
    const second = await waitFinished(
      (await evaluateConditional({ numSamples: 12, steps: 5, guidance: 1 })).data!.evaluateModel.id,
    );
    expect(second.error).toBeNull();
    expect(second.classifier).toEqual({ ...first.classifier, reused: true });
    expect(second.realDatasetInceptionScore).toEqual(first.realDatasetInceptionScore);
    expect(await hub.store.stat(first.classifier!.objectKey.replace('model.json', 'weights.bin'))).toMatchObject({
      size: bytesBefore!.size,
    });
    // Guidance is part of the comparability key: 3 and 1 are not put side by side.
    expect(second.guidance).toBe(1);
    expect(second.comparableKey).not.toBe(first.comparableKey);
    const groups = await ann.client.request<{ comparableEvaluations: { evaluations: { id: string }[] }[] }>(
      `query ($id: ID!) { comparableEvaluations(modelId: $id) { evaluations { id } } }`,
      { id: conditionalModelId },
    );
    expect(groups.data!.comparableEvaluations.map((g) => g.evaluations.map((e) => e.id)).sort()).toEqual(
      [[first.id], [second.id]].sort(),
    );
  }, 600_000);

  it('refuses guidance for an unconditional model, naming the field', async () => {
    const res = await evaluate(ann, { numSamples: 10, guidance: 2 });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe('guidance');
    expect(res.errors?.[0]?.message).toMatch(/not class-conditional/);
  });
});

describe('queueing', () => {
  it('an evaluation waiting behind a running sample job is QUEUED with a queue position, and RUNNING only once it starts', async () => {
    const scheduler = hub.hub.services.sampling.scheduler;
    await scheduler.idle();
    // A long sample job holds the only worker.
    const blocker = await ann.client.request<{ generateSamples: { id: string } }>(GENERATE, {
      input: { modelVersionId: slowVersionId, count: 64, steps: 150, seed: 1 },
    });
    expect(blocker.errors).toBeUndefined();
    const res = await evaluate(ann, { numSamples: 10, steps: 5, extractor: 'OFFLINE' });
    expect(res.errors).toBeUndefined();
    const id = res.data!.evaluateModel.id;
    expect(res.data!.evaluateModel).toMatchObject({ status: 'QUEUED' });
    expect(res.data!.evaluateModel.queuePosition).toEqual(expect.any(Number));
    // Once the job handler has handed it to this hub's fair queue, it stays QUEUED there (position 0: next).
    for (let i = 0; i < 2000 && !scheduler.owns(id); i++) await new Promise((r) => setTimeout(r, 50));
    const waiting = (
      await ann.client.request<{ evaluation: Ev & { queuePosition: number | null } }>(EVALUATION, { id })
    ).data!.evaluation;
    const blockerNow = await ann.client.request<{ sampleJob: { status: string } }>(
      `query ($id: ID!) { sampleJob(id: $id) { status } }`,
      { id: blocker.data!.generateSamples.id },
    );
    expect(blockerNow.data!.sampleJob.status).toBe('RUNNING'); // otherwise the state above was read after it finished
    expect(waiting).toMatchObject({ status: 'QUEUED', queuePosition: 0, startedAt: null });
    const done = await waitFinished(id);
    expect(done.status).toBe('SUCCEEDED');
    const sample = await ann.client.request<{ sampleJob: { status: string } }>(
      `query ($id: ID!) { sampleJob(id: $id) { status } }`,
      { id: blocker.data!.generateSamples.id },
    );
    expect(sample.data!.sampleJob.status).toBe('SUCCEEDED');
    // It started only after the sample job ahead of it: never RUNNING while it waited.
    const [blockerRow] = await hub.db
      .select()
      .from(sampleJobs)
      .where(eq(sampleJobs.id, blocker.data!.generateSamples.id));
    expect(new Date(done.startedAt!).getTime()).toBeGreaterThanOrEqual(blockerRow!.finishedAt!.getTime());
    expect(scheduler.startOrder.indexOf(id)).toBeGreaterThan(
      scheduler.startOrder.indexOf(blocker.data!.generateSamples.id),
    );
  }, 600_000);
});
