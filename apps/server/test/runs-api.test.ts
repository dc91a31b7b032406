import { TRAINER_API_PREFIX } from '@dapple/contracts/trainer-protocol';
import { runs } from '@dapple/db';
import { errorCode } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addMember, createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { ok, readyDatasetVersion, runningRunWithToken, START_RUN, tinyConfig } from './runs-fixtures.ts';

// No executor: nothing starts, so queued runs stay queued and the API can be checked without processes.
let hub: TestHub;
let ann: SignedInUser;
let vic: SignedInUser;
let eve: SignedInUser;
let teamId: string;
let versionId: string;

beforeAll(async () => {
  hub = await startTestHub({ runs: { executor: false } });
  ann = await signUpUser(hub, 'Ann');
  vic = await signUpUser(hub, 'Vic');
  eve = await signUpUser(hub, 'Eve');
  teamId = await createTeam(ann, 'Lab', 'lab');
  await addMember(ann, teamId, vic, 'VIEWER');
  ({ versionId } = await readyDatasetVersion(hub, teamId, { resolution: 8, channels: 1, n: 8 }));
});
afterAll(async () => {
  await hub?.close();
});

const start = (user: SignedInUser, config: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  user.client.request(START_RUN, { input: { datasetVersionId: versionId, name: 'r', config, ...extra } });

async function runCount(): Promise<number> {
  return (await hub.db.select({ id: runs.id }).from(runs)).length;
}

describe('startRun validation: clear errors, nothing started', () => {
  it.each([
    [
      'an unknown preset',
      { ...tinyConfig(), preset: 'huge' },
      'config.preset',
      /invalid value "huge" at "input.config.preset"; Value "huge" does not exist in "RunPreset" enum/,
    ],
    [
      'a resolution override that does not match',
      tinyConfig({ model: { resolution: 32 } }),
      'config.model.resolution',
      /32×32 images but dataset .* is 8×8/,
    ],
    ['an absurd batch size', tinyConfig({ batchSize: 100_000 }), 'config.batchSize', /must be at most 512/],
    ['a zero step count', tinyConfig({ steps: 0 }), 'config.steps', /at least 1/],
    [
      'a micro-batch above the batch',
      tinyConfig({ batchSize: 8, microBatch: 16 }),
      'config.microBatch',
      /at most batchSize/,
    ],
    [
      'groups that do not divide the channels',
      tinyConfig({ model: { resolution: 8, baseChannels: 8, groups: 3 } }),
      'config.model.groups',
      /must divide/,
    ],
  ])('refuses %s', async (_what, config, field, message) => {
    const before = await runCount();
    const res = await start(ann, config);
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe(field);
    expect(res.errors?.[0]?.message).toMatch(message);
    expect(await runCount()).toBe(before);
  });

  it('refuses fine-tuning from an unknown model version (runs-finetune.test.ts covers the rest)', async () => {
    const res = await start(ann, tinyConfig(), { fromModelVersionId: '00000000-0000-4000-8000-000000000000' });
    expect(errorCode(res)).toBe('NOT_FOUND');
    expect(res.errors?.[0]?.extensions?.field).toBe('fromModelVersionId');
  });

  it('refuses an unknown dataset version, and viewers and outsiders', async () => {
    const unknown = await ann.client.request(START_RUN, {
      input: { datasetVersionId: '00000000-0000-4000-8000-000000000000', name: 'r', config: tinyConfig() },
    });
    expect(errorCode(unknown)).toBe('BAD_USER_INPUT');
    expect(errorCode(await start(vic, tinyConfig()))).toBe('FORBIDDEN');
    // Another team's version answers like a missing one: nothing of its name or status.
    const theirs = await start(eve, tinyConfig());
    expect(errorCode(theirs)).toBe('BAD_USER_INPUT');
    expect(theirs.errors?.[0]?.message).toBe(`datasetVersionId: no dataset version ${versionId}`);
  });
});

describe('cancel and resume without a trainer', () => {
  it('cancels a queued run at once, refuses a second cancel of the finished run, resumes it', async () => {
    const id = ok(await start(ann, tinyConfig())).startRun.id as string;
    expect(errorCode(await vic.client.request(`mutation ($id: ID!) { cancelRun(id: $id) { status } }`, { id }))).toBe(
      'FORBIDDEN',
    );
    expect(errorCode(await eve.client.request(`mutation ($id: ID!) { cancelRun(id: $id) { status } }`, { id }))).toBe(
      'NOT_FOUND',
    );
    // Viewers may watch the run.
    expect(ok(await vic.client.request(`query ($id: ID!) { run(id: $id) { status } }`, { id })).run.status).toBe(
      'QUEUED',
    );
    const cancelled = ok(
      await ann.client.request(`mutation ($id: ID!) { cancelRun(id: $id) { status finishedAt } }`, { id }),
    );
    expect(cancelled.cancelRun.status).toBe('CANCELLED');
    const again = await ann.client.request(`mutation ($id: ID!) { cancelRun(id: $id) { status } }`, { id });
    expect(errorCode(again)).toBe('CONFLICT');
    expect(again.errors?.[0]?.message).toMatch(/already been cancelled: there is nothing to cancel/);
    expect(errorCode(await vic.client.request(`mutation ($id: ID!) { resumeRun(id: $id) { status } }`, { id }))).toBe(
      'FORBIDDEN',
    );
    const resumed = ok(await ann.client.request(`mutation ($id: ID!) { resumeRun(id: $id) { status error } }`, { id }));
    expect(resumed.resumeRun.status).toBe('QUEUED');
    const resumeQueued = await ann.client.request(`mutation ($id: ID!) { resumeRun(id: $id) { status } }`, { id });
    expect(errorCode(resumeQueued)).toBe('CONFLICT');
    const events = ok(
      await ann.client.request(`query ($id: ID!) { run(id: $id) { events { fromStatus toStatus message } } }`, { id }),
    );
    expect(events.run.events.map((e: { toStatus: string }) => e.toStatus)).toEqual(['QUEUED', 'CANCELLED', 'QUEUED']);
  });

  it('refuses to cancel a succeeded run with a clear message', async () => {
    const id = ok(await start(ann, tinyConfig())).startRun.id as string;
    await hub.db.update(runs).set({ status: 'succeeded', finishedAt: new Date() }).where(eq(runs.id, id));
    const res = await ann.client.request(`mutation ($id: ID!) { cancelRun(id: $id) { status } }`, { id });
    expect(errorCode(res)).toBe('CONFLICT');
    expect(res.errors?.[0]?.message).toMatch(/has already succeeded: there is nothing to cancel/);
    expect(errorCode(await ann.client.request(`mutation ($id: ID!) { resumeRun(id: $id) { status } }`, { id }))).toBe(
      'CONFLICT',
    );
  });

  it('lists runs newest first with filters and cursors; outsiders cannot read them', async () => {
    const list = async (variables: Record<string, unknown>) =>
      ok(
        await ann.client.request(
          `query ($teamId: ID!, $filter: RunFilter, $first: Int, $after: String) { runs(teamId: $teamId, filter: $filter, first: $first, after: $after) { nodes { id name status } pageInfo { hasNextPage endCursor } } }`,
          { teamId, ...variables },
        ),
      ).runs;
    const all = await list({ first: 100 });
    expect(all.nodes.length).toBeGreaterThanOrEqual(2);
    const page1 = await list({ first: 1 });
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = await list({ first: 1, after: page1.pageInfo.endCursor });
    expect(page2.nodes[0].id).toBe(all.nodes[1].id);
    const succeeded = await list({ filter: { status: ['SUCCEEDED'] } });
    expect(succeeded.nodes.every((r: { status: string }) => r.status === 'SUCCEEDED')).toBe(true);
    expect(
      errorCode(
        await eve.client.request(`query ($teamId: ID!) { runs(teamId: $teamId) { nodes { id } } }`, { teamId }),
      ),
    ).toBe('NOT_FOUND');
    const theirs = await eve.client.request(`query ($id: ID!) { run(id: $id) { id } }`, { id: all.nodes[0].id });
    const missing = await eve.client.request(`query ($id: ID!) { run(id: $id) { id } }`, {
      id: '00000000-0000-4000-8000-000000000000',
    });
    expect(errorCode(theirs)).toBe('NOT_FOUND');
    expect(theirs.errors).toEqual(missing.errors);
  });
});

describe('run tokens', () => {
  const call = (token: string | null, path: string, body?: unknown) =>
    fetch(`${hub.url}${TRAINER_API_PREFIX}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('writes only its own run and stops working when the run ends', async () => {
    const a = await runningRunWithToken(hub, ann, versionId);
    const b = await runningRunWithToken(hub, ann, versionId);
    expect((await call(null, '/run')).status).toBe(401);
    expect((await call('not-a-token', '/run')).status).toBe(401);

    const assignment = await (await call(a.token, '/run')).json();
    expect(assignment.run.id).toBe(a.id);
    expect(assignment.dataset.manifest.resolution).toBe(8);

    // There is no way to name another run: a body with a run id is refused, not redirected.
    const foreign = await call(a.token, '/heartbeat', { step: 3, runId: b.id });
    expect(foreign.status).toBe(400);
    expect((await foreign.json()).error.code).toBe('BAD_USER_INPUT');

    expect((await call(a.token, '/heartbeat', { step: 3, imagesPerSec: 12 })).status).toBe(200);
    const metrics = await call(a.token, '/metrics', { points: [{ key: 'loss', step: 1, value: 0.5 }] });
    expect(metrics.status, await metrics.clone().text()).toBe(200);
    const tooMany = await call(a.token, '/metrics', {
      points: Array.from({ length: 1001 }, (_, i) => ({ key: 'loss', step: i, value: 1 })),
    });
    expect(tooMany.status).toBe(400);
    expect((await tooMany.json()).error.message).toMatch(/at most 1000 points/);

    const [rowA] = await hub.db.select().from(runs).where(eq(runs.id, a.id));
    const [rowB] = await hub.db.select().from(runs).where(eq(runs.id, b.id));
    expect(rowA!.step).toBe(3);
    expect(rowB!.step).toBe(0);
    const keysB = ok(await ann.client.request(`query ($id: ID!) { run(id: $id) { metricKeys } }`, { id: b.id }));
    expect(keysB.run.metricKeys).toEqual([]);

    const finished = await call(a.token, '/finish', { outcome: 'succeeded', step: 3 });
    expect(finished.status).toBe(200);
    expect((await finished.json()).status).toBe('succeeded');
    // The run ended: its token is revoked.
    expect((await call(a.token, '/heartbeat', { step: 4 })).status).toBe(401);
    expect((await call(a.token, '/metrics', { points: [{ key: 'loss', step: 4, value: 0.4 }] })).status).toBe(401);
    // B's token still works.
    expect((await call(b.token, '/heartbeat', { step: 1 })).status).toBe(200);
  });

  it('stores a diverged (NaN/Infinity) loss, and names a malformed point', async () => {
    const r = await runningRunWithToken(hub, ann, versionId);
    const res = await call(r.token, '/metrics', {
      points: [
        { key: 'loss', step: 1, value: 'NaN' },
        { key: 'loss', step: 2, value: 'Infinity' },
        { key: 'loss', step: 3, value: 0.25 },
      ],
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await res.json()).inserted).toBe(3);
    const series = ok(
      await ann.client.request(
        `query ($id: ID!) { run(id: $id) { metrics(keys: ["loss"], maxPoints: 10) { points { step count nonFinite last } } } }`,
        { id: r.id },
      ),
    );
    expect(series.run.metrics[0].points).toEqual([
      { step: 1, count: 0, nonFinite: 1, last: null },
      { step: 2, count: 0, nonFinite: 1, last: null },
      { step: 3, count: 1, nonFinite: 0, last: 0.25 },
    ]);
    const bad = await call(r.token, '/metrics', { points: [{ key: 'loss', step: 4, value: 'lots' }] });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'points.0.value' });
    const badStep = await call(r.token, '/metrics', { points: [{ key: 'loss', step: -1, value: 1 }] });
    expect(badStep.status).toBe(400);
    expect((await badStep.json()).error.field).toBe('points[0].step');
  });

  it('keeps only the last 10000 log lines of a run', async () => {
    const r = await runningRunWithToken(hub, ann, versionId);
    const lines = Array.from({ length: 10_600 }, (_, i) => ({
      seq: i * 2,
      stream: 'stdout' as const,
      line: `line ${i}`,
    }));
    await hub.hub.services.runLogs.append(r.id, 1, lines);
    await hub.hub.services.runLogs.trim(r.id);
    const tail = await hub.hub.services.runLogs.tail(r.id, 20_000);
    expect(tail.length).toBe(10_000);
    expect(tail[0]!.line).toBe('line 600');
    expect(tail.at(-1)!.line).toBe('line 10599');
    // A re-read file tail (same seq) inserts nothing twice.
    await hub.hub.services.runLogs.append(r.id, 1, lines.slice(-5));
    expect((await hub.hub.services.runLogs.tail(r.id, 20_000)).length).toBe(10_000);
  });

  it('a cancelled run revokes its token; a stopped trainer then ends it cancelled', async () => {
    const r = await runningRunWithToken(hub, ann, versionId);
    ok(await ann.client.request(`mutation ($id: ID!) { cancelRun(id: $id) { status } }`, { id: r.id }));
    const beat = await (await call(r.token, '/heartbeat', { step: 5 })).json();
    expect(beat.cancelRequested).toBe(true);
    const stopped = await (await call(r.token, '/finish', { outcome: 'stopped', step: 5 })).json();
    expect(stopped.status).toBe('cancelled');
    expect((await call(r.token, '/heartbeat', { step: 6 })).status).toBe(401);
  });
});
