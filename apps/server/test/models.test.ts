import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadInferenceWeights, memoryHandler } from '@dapple/models';
import { modelVersions, runs, shareLinks } from '@dapple/db';
import { errorCode, gqlClient, type GqlResponse } from '@dapple/testing';
import { startTestHub, TEST_SECRET, type TestHub } from './support/hub.ts';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { finishedRunWithCheckpoints, listKeys } from './models-fixtures.ts';
import { ok } from './runs-fixtures.ts';

const PUBLISH = `mutation ($input: PublishModelInput!) { publishModel(input: $input) {
  model { id name viewerPermissions } version { id number step weightsPrecision resolution channels aliases metrics { key last step } sampleGridStep sampleGridUrl modelCard predictionType }
} }`;
const MODEL = `query ($id: ID!, $token: String) { model(id: $id, shareToken: $token) { id name viewerPermissions
  versions { id number aliases } aliases { name versionId } aliasEvents { aliasName fromNumber toNumber reason actorId } } }`;
const SET_ALIAS = `mutation ($m: ID!, $n: String!, $v: ID!) { setAlias(modelId: $m, name: $n, versionId: $v) { id aliases { name versionId } } }`;
const LINK = `mutation ($m: ID!, $h: Int!) { createShareLink(modelId: $m, expiresInHours: $h) { token link { id prefix active } } }`;
const SHARED = `query ($t: String!) { sharedModel(token: $t) { id name viewerPermissions versions { id number files { modelJsonUrl weightsUrl configUrl } } } }`;
const FILES = `query ($id: ID!, $t: String) { modelVersion(id: $id, shareToken: $t) { id files { modelJsonUrl weightsUrl configUrl cardUrl expiresAt } } }`;
const EXPORT = `mutation ($id: ID!, $t: String) { exportModelVersion(id: $id, shareToken: $t) { url sizeBytes } }`;
const DELETE_VERSION = `mutation ($id: ID!) { deleteModelVersion(id: $id) }`;

let hub: TestHub;
let owner: SignedInUser;
let member: SignedInUser;
let viewer: SignedInUser;
let outsider: SignedInUser;
let teamId: string;
let runId: string;
let modelId: string;
let v1: string;
let v2: string;

const download = async (url: string) => {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return Buffer.from(await res.arrayBuffer());
};

beforeAll(async () => {
  hub = await startTestHub({ webhooks: { secret: TEST_SECRET }, logLevel: 'error' });
  owner = await signUpUser(hub, 'Olga');
  member = await signUpUser(hub, 'Mats');
  viewer = await signUpUser(hub, 'Vera');
  outsider = await signUpUser(hub, 'Otto');
  teamId = await createTeam(owner, 'Lab', 'models-lab');
  await createTeam(outsider, 'Elsewhere', 'models-elsewhere');
  await addMember(owner, teamId, member, 'MEMBER');
  await addMember(owner, teamId, viewer, 'VIEWER');
  runId = (await finishedRunWithCheckpoints(hub, teamId, owner.id)).run.id;
});

afterAll(async () => {
  await hub?.close();
});

describe('publishModel', () => {
  it('publishes EMA weights of the checkpoint as version 1 with latest, card, grid and metrics', async () => {
    const res = ok(
      await member.client.request<{ publishModel: any }>(PUBLISH, {
        input: { runId, step: 40, modelName: 'blobs', notes: 'first cut' },
      }),
    );
    const { model, version } = res.publishModel;
    modelId = model.id;
    v1 = version.id;
    expect(version).toMatchObject({
      number: 1,
      step: 40,
      weightsPrecision: 'FLOAT16',
      resolution: 8,
      channels: 1,
      aliases: ['latest'],
      sampleGridStep: 40,
      predictionType: 'eps',
    });
    expect(version.metrics).toContainEqual({ key: 'loss', last: 1 / 40, step: 40 });
    expect(version.modelCard).toContain('# blobs — version 1');
    expect(version.modelCard).toContain('first cut');
    expect((await download(version.sampleGridUrl)).subarray(1, 4).toString()).toBe('PNG');

    // The published weights are the EMA ones (raw + 0.04 in the fixture), loadable through files URLs.
    const files = ok(await viewer.client.request<{ modelVersion: any }>(FILES, { id: v1 })).modelVersion.files;
    const modelJson = JSON.parse((await download(files.modelJsonUrl)).toString()) as tf.io.ModelJSON;
    const weights = await download(files.weightsUrl);
    const loaded = await loadInferenceWeights(
      memoryHandler({
        format: modelJson.format!,
        weightSpecs: modelJson.weightsManifest[0]!.weights,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length),
        userDefinedMetadata: modelJson.userDefinedMetadata!,
      }),
    );
    expect(loaded.step).toBe(40);
    // What the in-browser sampler (samplingSpecFromConfig) reads from model.json.
    expect(loaded.config).toMatchObject({
      schedule: { kind: 'cosine', T: 100 },
      predictionType: 'eps',
      labelNames: [],
      unet: { resolution: 8, channels: 1 },
    });
    const ckpt = await import('@dapple/models').then((d) => d.loadCheckpoint);
    const raw = await (async () => {
      const json = JSON.parse(
        await streamText(hub, `runs/${runId}/checkpoints/step-000000040/model.json`),
      ) as tf.io.ModelJSON;
      const bin = await streamBytes(hub, `runs/${runId}/checkpoints/step-000000040/weights.bin`);
      return ckpt(
        memoryHandler({
          format: json.format!,
          weightSpecs: json.weightsManifest[0]!.weights,
          weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length) as ArrayBuffer,
          userDefinedMetadata: json.userDefinedMetadata!,
        }),
      );
    })();
    const [name, published] = [...loaded.weights][0]!;
    const diff = tf.sub(published, raw.variables.get(name)!).dataSync();
    for (const d of diff) expect(d).toBeCloseTo(0.04, 2);
    const config = JSON.parse((await download(files.configUrl)).toString());
    expect(config).toMatchObject({
      predictionType: 'eps',
      resolution: 8,
      channels: 1,
      schedule: { T: 100 },
      weights: 'ema',
    });
  });

  it('publishes step 20 as version 2 into the same model, moves latest and audits it', async () => {
    const res = ok(
      await member.client.request<{ publishModel: any }>(PUBLISH, {
        input: { runId, step: 20, modelId, precision: 'FLOAT32' },
      }),
    );
    v2 = res.publishModel.version.id;
    expect(res.publishModel.version).toMatchObject({ number: 2, weightsPrecision: 'FLOAT32', aliases: ['latest'] });
    const m = ok(await viewer.client.request<{ model: any }>(MODEL, { id: modelId })).model;
    expect(m.versions.map((v: any) => v.number)).toEqual([2, 1]);
    expect(m.aliasEvents[0]).toMatchObject({ aliasName: 'latest', fromNumber: 1, toNumber: 2, actorId: member.id });
  });

  it('refuses a step without checkpoint, naming what exists, and leaves no objects behind', async () => {
    const res = await member.client.request(PUBLISH, { input: { runId, step: 30, modelId } });
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors![0]!.message).toContain('available: 20, 40');
    expect(await listKeys(hub, `models/${modelId}/v3/`)).toEqual([]);
  });

  it('keeps versions immutable in the database', async () => {
    await expect(hub.db.update(modelVersions).set({ step: 1 }).where(eq(modelVersions.id, v1))).rejects.toThrow();
  });

  it('refuses to delete a run that has published versions', async () => {
    await expect(hub.db.delete(runs).where(eq(runs.id, runId))).rejects.toThrow();
  });
});

describe('authorization', () => {
  it('viewer reads and samples but cannot publish or move aliases; member can', async () => {
    const m = ok(await viewer.client.request<{ model: any }>(MODEL, { id: modelId })).model;
    expect(m.viewerPermissions).toEqual(['READ', 'SAMPLE']);
    expect(errorCode(await viewer.client.request(PUBLISH, { input: { runId, step: 40, modelId } }))).toBe('FORBIDDEN');
    expect(errorCode(await viewer.client.request(SET_ALIAS, { m: modelId, n: 'best', v: v1 }))).toBe('FORBIDDEN');
    const mm = ok(await member.client.request<{ model: any }>(MODEL, { id: modelId })).model;
    expect(mm.viewerPermissions).toEqual(['READ', 'SAMPLE', 'PUBLISH', 'ALIAS']);
    ok(await member.client.request(SET_ALIAS, { m: modelId, n: 'best', v: v1 }));
    const events = ok(await owner.client.request<{ model: any }>(MODEL, { id: modelId })).model.aliasEvents;
    expect(events[0]).toMatchObject({ aliasName: 'best', fromNumber: null, toNumber: 1, actorId: member.id });
  });

  it('only admins share, create links and delete', async () => {
    for (const u of [member, viewer]) {
      expect(errorCode(await u.client.request(LINK, { m: modelId, h: 1 }))).toBe('FORBIDDEN');
      expect(errorCode(await u.client.request(DELETE_VERSION, { id: v2 }))).toBe('FORBIDDEN');
      expect(
        errorCode(
          await u.client.request(
            `mutation ($m: ID!) { shareModel(input: { modelId: $m, userEmail: "x@example.com", role: VIEWER }) { id } }`,
            { m: modelId },
          ),
        ),
      ).toBe('FORBIDDEN');
    }
    const m = ok(await owner.client.request<{ model: any }>(MODEL, { id: modelId })).model;
    expect(m.viewerPermissions).toEqual(['READ', 'SAMPLE', 'PUBLISH', 'ALIAS', 'SHARE', 'DELETE']);
  });

  it('an outsider sees nothing until shared; a viewer share reads, an editor share moves aliases', async () => {
    expect(errorCode(await outsider.client.request(MODEL, { id: modelId }))).toBe('NOT_FOUND');
    expect(errorCode(await outsider.client.request(FILES, { id: v1 }))).toBe('NOT_FOUND');
    const share = `mutation ($m: ID!, $e: String!, $r: ModelShareRole!) { shareModel(input: { modelId: $m, userEmail: $e, role: $r }) { id role userId } }`;
    ok(await owner.client.request(share, { m: modelId, e: outsider.email, r: 'VIEWER' }));
    expect(ok(await outsider.client.request<{ model: any }>(MODEL, { id: modelId })).model.viewerPermissions).toEqual([
      'READ',
      'SAMPLE',
    ]);
    expect(errorCode(await outsider.client.request(SET_ALIAS, { m: modelId, n: 'best', v: v2 }))).toBe('FORBIDDEN');
    ok(await owner.client.request(share, { m: modelId, e: outsider.email, r: 'EDITOR' }));
    ok(await outsider.client.request(SET_ALIAS, { m: modelId, n: 'best', v: v2 }));
    // An editor from another team still cannot share or delete, nor publish runs of a team it is not in.
    expect(errorCode(await outsider.client.request(LINK, { m: modelId, h: 1 }))).toBe('FORBIDDEN');
    // Another team's run answers like a missing one.
    expect(errorCode(await outsider.client.request(PUBLISH, { input: { runId, step: 40, modelId } }))).toBe(
      'BAD_USER_INPUT',
    );
    const unshared = await owner.client.request<{ unshareModel: boolean }>(
      `mutation ($m: ID!, $u: ID!) { unshareModel(modelId: $m, userId: $u) }`,
      { m: modelId, u: outsider.id },
    );
    expect(ok(unshared).unshareModel).toBe(true);
    expect(errorCode(await outsider.client.request(MODEL, { id: modelId }))).toBe('NOT_FOUND');
  });

  it('the models list shows team models to members and shared ones to the grantee', async () => {
    const list = `query ($t: ID!) { models(teamId: $t) { id name } }`;
    expect(ok(await viewer.client.request<{ models: any[] }>(list, { t: teamId })).models.map((m) => m.id)).toEqual([
      modelId,
    ]);
    expect(errorCode(await outsider.client.request(list, { t: teamId }))).toBe('NOT_FOUND');
  });
});

describe('share links', () => {
  let token: string;
  let linkId: string;
  const anon = () => gqlClient(hub.graphqlUrl);

  it('gives anonymous read + sample of that one model, nothing else', async () => {
    const created = ok(
      await owner.client.request<{ createShareLink: any }>(LINK, { m: modelId, h: 24 }),
    ).createShareLink;
    token = created.token;
    linkId = created.link.id;
    expect(token.startsWith('dpl_share_')).toBe(true);
    expect(created.link.active).toBe(true);
    const [row] = await hub.db.select().from(shareLinks).where(eq(shareLinks.id, linkId));
    expect(row!.tokenHash).not.toContain(token.slice(10));
    const shared = ok(await anon().request<{ sharedModel: any }>(SHARED, { t: token })).sharedModel;
    expect(shared.viewerPermissions).toEqual(['READ', 'SAMPLE']);
    expect((await download(shared.versions[0].files.modelJsonUrl)).length).toBeGreaterThan(0);
    expect(ok(await anon().request<{ modelVersion: any }>(FILES, { id: v1, t: token })).modelVersion.id).toBe(v1);
    // Not a way in: other mutations need a signed-in user, and admin-only fields stay closed.
    expect(errorCode(await anon().request(SET_ALIAS, { m: modelId, n: 'best', v: v1 }))).toBe('UNAUTHENTICATED');
    expect(
      errorCode(
        await anon().request(`query ($t: String!) { sharedModel(token: $t) { shareLinks { id } } }`, { t: token }),
      ),
    ).toBe('FORBIDDEN');
    expect(
      errorCode(
        await anon().request(`query ($t: String!) { sharedModel(token: $t) { aliasEvents { aliasName } } }`, {
          t: token,
        }),
      ),
    ).toBe('FORBIDDEN');
    // A link of another model does not open this one.
    const other = ok(
      await member.client.request<{ publishModel: any }>(PUBLISH, { input: { runId, step: 20, modelName: 'other' } }),
    ).publishModel;
    expect(errorCode(await anon().request(FILES, { id: other.version.id, t: token }))).toBe('NOT_FOUND');
  });

  it('dies when revoked', async () => {
    ok(await owner.client.request(`mutation ($id: ID!) { revokeShareLink(id: $id) { id active } }`, { id: linkId }));
    const res = await anon().request(SHARED, { t: token });
    expect(errorCode(res)).toBe('FORBIDDEN');
    expect(res.errors![0]!.message).toContain('revoked');
    expect(errorCode(await anon().request(FILES, { id: v1, t: token }))).toBe('FORBIDDEN');
  });

  it('dies when expired', async () => {
    const created = ok(
      await owner.client.request<{ createShareLink: any }>(LINK, { m: modelId, h: 1 }),
    ).createShareLink;
    ok(await anon().request(SHARED, { t: created.token }));
    await hub.db
      .update(shareLinks)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(shareLinks.id, created.link.id));
    const res = await anon().request(SHARED, { t: created.token });
    expect(errorCode(res)).toBe('FORBIDDEN');
    expect(res.errors![0]!.message).toContain('expired');
    expect(errorCode(await anon().request(SHARED, { t: 'dpl_share_not-a-real-token' }))).toBe('FORBIDDEN');
  });
});

describe('export and delete', () => {
  it('exports a zip with weights, config and card that unzip accepts', async () => {
    const res = ok(await viewer.client.request<{ exportModelVersion: any }>(EXPORT, { id: v1 })).exportModelVersion;
    const zip = await download(res.url);
    expect(zip.length).toBe(res.sizeBytes);
    const dir = await mkdtemp(join(tmpdir(), 'dapple-export-'));
    try {
      await writeFile(join(dir, 'v1.zip'), zip);
      execFileSync('unzip', ['-q', 'v1.zip', '-d', 'out'], { cwd: dir }); // fails on a bad CRC or layout
      const listing = execFileSync('unzip', ['-Z1', 'v1.zip'], { cwd: dir }).toString().trim().split('\n').sort();
      expect(listing).toEqual(['MODEL_CARD.md', 'config.json', 'grid.png', 'model.json', 'weights.bin']);
      const weights = await streamBytes(hub, `models/${modelId}/v1/weights.bin`);
      const { readFile } = await import('node:fs/promises');
      expect(Buffer.compare(await readFile(join(dir, 'out', 'weights.bin')), weights)).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to delete a version a user-defined alias points at; then deletes it and frees every object', async () => {
    // best → v2 (set by the editor share above)
    const refused = await owner.client.request(DELETE_VERSION, { id: v2 });
    expect(errorCode(refused)).toBe('CONFLICT');
    expect(refused.errors![0]!.message).toContain('"best"');
    ok(await owner.client.request(`mutation ($m: ID!) { removeAlias(modelId: $m, name: "best") }`, { m: modelId }));
    expect((await listKeys(hub, `models/${modelId}/v2/`)).length).toBeGreaterThan(0);
    const deleted = ok(
      await owner.client.request<{ deleteModelVersion: number }>(DELETE_VERSION, { id: v2 }),
    ).deleteModelVersion;
    expect(deleted).toBeGreaterThanOrEqual(4);
    expect(await listKeys(hub, `models/${modelId}/v2/`)).toEqual([]);
    const m = ok(await owner.client.request<{ model: any }>(MODEL, { id: modelId })).model;
    expect(m.aliases).toEqual([{ name: 'latest', versionId: v1 }]);
    expect(m.aliasEvents[0]).toMatchObject({
      aliasName: 'latest',
      fromNumber: 2,
      toNumber: 1,
      reason: 'version 2 deleted',
    });
    expect(errorCode(await viewer.client.request(FILES, { id: v2 }))).toBe('NOT_FOUND');
  });

  it('deleting the model frees all its objects; the run can then be deleted', async () => {
    const others = ok(
      await owner.client.request<{ models: any[] }>(`query ($t: ID!) { models(teamId: $t) { id } }`, { t: teamId }),
    ).models;
    for (const m of others)
      ok(await owner.client.request(`mutation ($id: ID!) { deleteModel(id: $id) }`, { id: m.id }));
    expect(await listKeys(hub, 'models/')).toEqual([]);
    await hub.db.delete(runs).where(eq(runs.id, runId));
  });
});

async function streamBytes(h: TestHub, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await h.store.get(key)) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}
async function streamText(h: TestHub, key: string): Promise<string> {
  return (await streamBytes(h, key)).toString('utf8');
}

export type { GqlResponse };
