import { errorCode } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { finishedRunWithCheckpoints } from './models-fixtures.ts';
import { ok } from './runs-fixtures.ts';

const PUBLISH = `mutation ($r: ID!, $n: String!) { publishModel(input: { runId: $r, step: 10, modelName: $n }) { model { id } version { id } } }`;
const MODEL = `query ($id: ID!) { model(id: $id) { id viewerPermissions } }`;
const VISIBILITY = `mutation ($id: ID!, $v: ModelVisibility!) { updateModel(input: { id: $id, visibility: $v }) { visibility } }`;
const LIST = `query ($t: ID!) { models(teamId: $t) { id } }`;

let hub: TestHub;
let admin: SignedInUser;
let creator: SignedInUser;
let otherMember: SignedInUser;
let viewer: SignedInUser;
let partner: SignedInUser;
let stranger: SignedInUser;
let teamId: string;
let partnerTeamId: string;
let modelId: string;
let versionId: string;

const perms = async (u: SignedInUser) => {
  const res = await u.client.request<{ model: { viewerPermissions: string[] } }>(MODEL, { id: modelId });
  return res.errors ? errorCode(res) : res.data!.model.viewerPermissions;
};

beforeAll(async () => {
  hub = await startTestHub({ logLevel: 'error' });
  admin = await signUpUser(hub, 'Alma');
  creator = await signUpUser(hub, 'Cleo');
  otherMember = await signUpUser(hub, 'Moritz');
  viewer = await signUpUser(hub, 'Vik');
  partner = await signUpUser(hub, 'Paula');
  stranger = await signUpUser(hub, 'Sten');
  teamId = await createTeam(admin, 'Vis', 'vis-team');
  partnerTeamId = await createTeam(partner, 'Partner', 'vis-partner');
  await createTeam(stranger, 'Stranger', 'vis-stranger');
  await addMember(admin, teamId, creator, 'MEMBER');
  await addMember(admin, teamId, otherMember, 'MEMBER');
  await addMember(admin, teamId, viewer, 'VIEWER');
  const { run } = await finishedRunWithCheckpoints(hub, teamId, creator.id, [10]);
  const published = ok(
    await creator.client.request<{ publishModel: any }>(PUBLISH, { r: run.id, n: 'secret-sauce' }),
  ).publishModel;
  modelId = published.model.id;
  versionId = published.version.id;
});

afterAll(async () => {
  await hub?.close();
});

describe('visibility and team shares', () => {
  it('team (default): every member by role; outsiders see nothing', async () => {
    expect(await perms(otherMember)).toEqual(['READ', 'SAMPLE', 'PUBLISH', 'ALIAS']);
    expect(await perms(viewer)).toEqual(['READ', 'SAMPLE']);
    expect(await perms(stranger)).toBe('NOT_FOUND');
  });

  it('only admins change visibility', async () => {
    expect(errorCode(await creator.client.request(VISIBILITY, { id: modelId, v: 'PRIVATE' }))).toBe('FORBIDDEN');
    ok(await admin.client.request(VISIBILITY, { id: modelId, v: 'PRIVATE' }));
  });

  it('private: admins and the creator keep access, other members and viewers lose it (also in lists)', async () => {
    expect(await perms(admin)).toEqual(['READ', 'SAMPLE', 'PUBLISH', 'ALIAS', 'SHARE', 'DELETE']);
    expect(await perms(creator)).toEqual(['READ', 'SAMPLE', 'PUBLISH', 'ALIAS']);
    expect(await perms(otherMember)).toBe('NOT_FOUND');
    expect(await perms(viewer)).toBe('NOT_FOUND');
    expect(ok(await viewer.client.request<{ models: any[] }>(LIST, { t: teamId })).models).toEqual([]);
    expect(ok(await creator.client.request<{ models: any[] }>(LIST, { t: teamId })).models.map((m) => m.id)).toEqual([
      modelId,
    ]);
  });

  it('a share with another team reaches its members and lists the model in that team', async () => {
    expect(await perms(partner)).toBe('NOT_FOUND');
    ok(
      await admin.client.request(
        `mutation ($m: ID!, $t: ID!) { shareModel(input: { modelId: $m, teamId: $t, role: VIEWER }) { teamId role } }`,
        { m: modelId, t: partnerTeamId },
      ),
    );
    expect(await perms(partner)).toEqual(['READ', 'SAMPLE']);
    expect(
      ok(await partner.client.request<{ models: any[] }>(LIST, { t: partnerTeamId })).models.map((m) => m.id),
    ).toEqual([modelId]);
    const shares = ok(
      await admin.client.request<{ model: any }>(
        `query ($id: ID!) { model(id: $id) { shares { teamId teamName role } } }`,
        { id: modelId },
      ),
    ).model.shares;
    expect(shares).toEqual([{ teamId: partnerTeamId, teamName: 'Partner', role: 'VIEWER' }]);
    expect(
      errorCode(
        await partner.client.request(`query ($id: ID!) { model(id: $id) { shares { teamId } } }`, { id: modelId }),
      ),
    ).toBe('FORBIDDEN');
  });

  it('concurrent publishes get distinct numbers and latest ends on the highest', async () => {
    const { run } = await finishedRunWithCheckpoints(hub, teamId, creator.id, [10]);
    const results = await Promise.all(
      [0, 1, 2].map(() => creator.client.request<{ publishModel: any }>(PUBLISH, { r: run.id, n: 'raced' })),
    );
    const ids = new Set(results.map((r) => ok(r).publishModel.model.id));
    expect(ids.size).toBe(1);
    const m = ok(
      await creator.client.request<{ model: any }>(
        `query ($id: ID!) { model(id: $id) { versions { number } version(alias: "latest") { number } } }`,
        { id: [...ids][0] },
      ),
    ).model;
    expect(m.versions.map((v: any) => v.number)).toEqual([3, 2, 1]);
    expect(m.version.number).toBe(3);
  });

  it('public: every signed-in user reads and samples, nobody more', async () => {
    ok(await admin.client.request(VISIBILITY, { id: modelId, v: 'PUBLIC' }));
    expect(await perms(stranger)).toEqual(['READ', 'SAMPLE']);
    const files = await stranger.client.request<{ modelVersion: any }>(
      `query ($id: ID!) { modelVersion(id: $id) { files { weightsUrl } } }`,
      { id: versionId },
    );
    expect(ok(files).modelVersion.files.weightsUrl).toContain('/objects/');
    expect(
      errorCode(
        await stranger.client.request(
          `mutation ($m: ID!, $v: ID!) { setAlias(modelId: $m, name: "mine", versionId: $v) { id } }`,
          { m: modelId, v: versionId },
        ),
      ),
    ).toBe('FORBIDDEN');
  });
});
