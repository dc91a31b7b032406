import { TRAINER_API_PREFIX } from '@dapple/contracts/trainer-protocol';
import { runs, runTokens } from '@dapple/db';
import { errorCode } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/services/auth/secrets.ts';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { finishedRunWithCheckpoints } from './models-fixtures.ts';
import { twoClassImages } from './runs-class-fixtures.ts';
import { ok, readyDatasetVersion, runRow, START_RUN, tinyConfig } from './runs-fixtures.ts';

// No executor: runs stay queued; the trainer's view is read through the trainer API with a token we make.
let hub: TestHub;
let ann: SignedInUser;
let bob: SignedInUser;
let annTeam: string;
let versionId: string;
let baseVersion: string;
let privateVersion: string;
let publicVersion: string;

const PUBLISH = `mutation ($input: PublishModelInput!) { publishModel(input: $input) { model { id } version { id number } } }`;
const RUN = `query ($id: ID!) { run(id: $id) { id baseModelVersionId baseModelVersion { id number model { name } } config { conditioning numClasses timesteps schedule prediction } events { message } } }`;

async function publish(
  user: SignedInUser,
  teamId: string,
  name: string,
  visibility?: 'PRIVATE' | 'PUBLIC',
): Promise<string> {
  const { run } = await finishedRunWithCheckpoints(hub, teamId, user.id);
  const { publishModel } = ok(
    await user.client.request<{ publishModel: { model: { id: string }; version: { id: string } } }>(PUBLISH, {
      input: { runId: run.id, step: 40, modelName: name },
    }),
  );
  if (visibility)
    ok(
      await user.client.request(
        `mutation ($id: ID!, $v: ModelVisibility!) { updateModel(input: { id: $id, visibility: $v }) { id } }`,
        { id: publishModel.model.id, v: visibility },
      ),
    );
  return publishModel.version.id;
}

const start = (config: Record<string, unknown>, fromModelVersionId: string, datasetVersionId = versionId) =>
  ann.client.request<{ startRun: { id: string } }>(START_RUN, {
    input: { datasetVersionId, name: 'ft', config, fromModelVersionId },
  });
const runCount = async () => (await hub.db.select({ id: runs.id }).from(runs)).length;

beforeAll(async () => {
  hub = await startTestHub({ runs: { executor: false } });
  ann = await signUpUser(hub, 'Ann');
  bob = await signUpUser(hub, 'Bob');
  annTeam = await createTeam(ann, 'Lab', 'ft-lab');
  const bobTeam = await createTeam(bob, 'Other', 'ft-other');
  ({ versionId } = await readyDatasetVersion(hub, annTeam, { resolution: 8, channels: 1, n: 8 }));
  baseVersion = await publish(ann, annTeam, 'blobs');
  privateVersion = await publish(bob, bobTeam, 'secret', 'PRIVATE');
  publicVersion = await publish(bob, bobTeam, 'open', 'PUBLIC');
});
afterAll(async () => {
  await hub?.close();
});

describe('startRun fromModelVersionId (fine-tuning)', () => {
  it("records the base version, shows it on the run, and hands the trainer the base's weights", async () => {
    const id = ok(await start(tinyConfig({ lr: 1e-5 }), baseVersion)).startRun.id;
    expect((await runRow(hub, id)).baseModelVersionId).toBe(baseVersion);
    const { run } = ok(await ann.client.request<{ run: any }>(RUN, { id }));
    expect(run.baseModelVersionId).toBe(baseVersion);
    expect(run.baseModelVersion).toMatchObject({ id: baseVersion, number: 1, model: { name: 'blobs' } });
    expect(run.events[0].message).toContain('fine-tuning model "blobs" v1');
    // The base is unconditional, so is the fine-tune; tinyConfig sets timesteps 100, the rest comes from the base too.
    expect(run.config).toEqual({
      conditioning: 'NONE',
      numClasses: null,
      timesteps: 100,
      schedule: 'COSINE',
      prediction: 'EPS',
    });
    // Left out, the diffusion process is the base's (T = 100), not the schema default (1000); given, it is the caller's.
    const { timesteps, ...withoutT } = tinyConfig();
    expect(timesteps).toBe(100);
    const inherited = ok(await start(withoutT, baseVersion)).startRun.id;
    expect(ok(await ann.client.request<{ run: any }>(RUN, { id: inherited })).run.config.timesteps).toBe(100);
    const chosen = ok(await start({ ...withoutT, timesteps: 200 }, baseVersion)).startRun.id;
    expect(ok(await ann.client.request<{ run: any }>(RUN, { id: chosen })).run.config.timesteps).toBe(200);

    const token = `ft-token-${id}`;
    await hub.db.update(runs).set({ status: 'starting', attempt: 1, startedAt: new Date() }).where(eq(runs.id, id));
    await hub.db.insert(runTokens).values({ runId: id, attempt: 1, tokenHash: sha256Hex(token) });
    const res = await fetch(`${hub.url}${TRAINER_API_PREFIX}/run`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const assignment = await res.json();
    expect(assignment.resumeFrom).toBeNull();
    expect(assignment.baseModel).toMatchObject({ versionId: baseVersion, name: 'blobs', number: 1 });
    const modelJson = await fetch(assignment.baseModel.files['model.json'].url, {
      headers: assignment.baseModel.files['model.json'].headers,
    });
    expect(modelJson.status).toBe(200);
    expect((await modelJson.json()).format).toBe('dapple-inference');
  });

  it("fine-tunes another team's public model", async () => {
    const id = ok(await start(tinyConfig(), publicVersion)).startRun.id;
    expect((await runRow(hub, id)).baseModelVersionId).toBe(publicVersion);
  });

  it("refuses another team's private model like an unknown one, starting nothing", async () => {
    const before = await runCount();
    for (const id of [privateVersion, '00000000-0000-4000-8000-000000000000']) {
      const res = await start(tinyConfig(), id);
      expect(errorCode(res)).toBe('NOT_FOUND');
      expect(res.errors?.[0]?.extensions?.field).toBe('fromModelVersionId');
      expect(res.errors?.[0]?.message).toMatch(/not found, or you may not read it/);
    }
    expect(await runCount()).toBe(before);
  });

  it('refuses a network that differs from the base, naming the field and both values', async () => {
    const before = await runCount();
    const wider = await start(
      tinyConfig({ model: { resolution: 8, baseChannels: 16, groups: 4, attentionResolutions: [4] } }),
      baseVersion,
    );
    expect(errorCode(wider)).toBe('BAD_USER_INPUT');
    expect(wider.errors?.[0]?.extensions?.field).toBe('config.model.baseChannels');
    expect(wider.errors?.[0]?.message).toMatch(/baseChannels 16 \(base 8\)/);
    expect(wider.errors?.[0]?.message).toMatch(/preset tiny/);

    const rgb = await readyDatasetVersion(hub, annTeam, { resolution: 8, channels: 3, n: 8 });
    const colour = await start(tinyConfig(), baseVersion, rgb.versionId);
    expect(errorCode(colour)).toBe('BAD_USER_INPUT');
    expect(colour.errors?.[0]?.extensions?.field).toBe('datasetVersionId');
    expect(colour.errors?.[0]?.message).toMatch(/channels 3 \(base 1\)/);

    // A labelled dataset: asking for class conditioning adds a label embedding the unconditional base lacks.
    const labelled = await readyDatasetVersion(hub, annTeam, {
      resolution: 8,
      channels: 1,
      images: await twoClassImages(8, 8),
    });
    const classes = await start(tinyConfig({ conditioning: 'CLASS' }), baseVersion, labelled.versionId);
    expect(errorCode(classes)).toBe('BAD_USER_INPUT');
    expect(classes.errors?.[0]?.extensions?.field).toBe('config.conditioning');
    expect(classes.errors?.[0]?.message).toMatch(/numClasses 2 \(base none\)/);
    expect(await runCount()).toBe(before);

    // Left out, conditioning follows the base even on a labelled dataset.
    const follows = ok(await start(tinyConfig(), baseVersion, labelled.versionId)).startRun.id;
    expect(ok(await ann.client.request<{ run: any }>(RUN, { id: follows })).run.config.conditioning).toBe('NONE');
  });
});
