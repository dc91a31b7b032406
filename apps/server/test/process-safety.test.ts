import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetFiles, webhookDeliveries, webhooks } from '@dapple/db';
import { gql } from '@dapple/testing';
import { buildZip } from '@dapple/datasets/testing';
import { startTestHub, TEST_SECRET, type TestHub } from './support/hub.ts';
import {
  COMPLETE,
  CORRUPT_PNG,
  createDataset,
  createUpload,
  listKeys,
  solidPng,
  uploadAll,
  waitForVersion,
} from './datasets-fixtures.ts';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { ok, START_RUN, tinyConfig } from './runs-fixtures.ts';

/**
 * Text Postgres cannot store (NUL, lone surrogates), from users and from third parties, must neither stop the hub
 * nor leave work stuck: users get BAD_USER_INPUT naming the field; third-party text is stored sanitised.
 */

let hub: TestHub;
let ann: SignedInUser;
let teamId: string;
beforeAll(async () => {
  hub = await startTestHub({
    webhooks: { secret: TEST_SECRET, allowPrivateTargets: true }, // the receivers listen on loopback
    jobs: { pollingIntervalSeconds: 0.5 },
    logLevel: 'silent',
  });
  ann = await signUpUser(hub, 'Ann');
  teamId = await createTeam(ann, 'Lab', 'lab');
});
afterAll(() => hub?.close());

async function expectHubServing(h: TestHub = hub) {
  expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
  expect((await gql(h.graphqlUrl, `{ me { id } }`)).data).toEqual({ me: null });
}

function expectBadInput(res: { errors?: { message: string; extensions?: Record<string, unknown> }[] }, field: string) {
  expect(res.errors?.[0]?.extensions?.code, JSON.stringify(res.errors)).toBe('BAD_USER_INPUT');
  expect(res.errors?.[0]?.extensions?.field).toBe(field);
  expect(res.errors?.[0]?.message).toContain(field);
}

describe('GraphQL inputs Postgres cannot store answer BAD_USER_INPUT naming the field', () => {
  it('NUL in a variable, NUL in a literal, a lone surrogate; over HTTP', async () => {
    const teamInput = { name: 'Bad\u0000Team', slug: 'bad-team' };
    const viaVariable = await ann.client.request(
      `mutation ($input: CreateTeamInput!) { createTeam(input: $input) { id } }`,
      {
        input: teamInput,
      },
    );
    expectBadInput(viaVariable, 'input.name');
    const viaLiteral = await ann.client.request(
      `mutation { createTeam(input: { name: "Bad\\u0000Team", slug: "bad-team" }) { id } }`,
    );
    expectBadInput(viaLiteral, 'input.name');
    const surrogate = await ann.client.request(
      `mutation ($input: CreateTeamInput!) { createTeam(input: $input) { id } }`,
      { input: { name: 'Bad\uD800Team', slug: 'bad-team' } },
    );
    expectBadInput(surrogate, 'input.name');
    // Nothing was created, and the hub still serves.
    const teams = ok(await ann.client.request<{ me: { teams: { name: string }[] } }>(`{ me { teams { name } } }`));
    expect(teams.me.teams.map((t) => t.name)).toEqual(['Lab']);
    await expectHubServing();
  });

  it('a non-UUID run filter and an overflowing file cursor are BAD_USER_INPUT, not 500', async () => {
    const filtered = await ann.client.request(
      `query ($t: ID!) { runs(teamId: $t, filter: { datasetVersionId: "not-a-uuid" }) { edges { node { id } } } }`,
      { t: teamId },
    );
    expectBadInput(filtered, 'filter.datasetVersionId');

    const datasetId = await createDataset(ann.client, teamId, 'cursor');
    const files = [{ path: 'a.png', bytes: await solidPng(1), contentType: 'image/png' }];
    const upload = ok(await createUpload(ann.client, datasetId, files)).createUpload;
    await uploadAll(upload, files);
    const done = ok(
      await ann.client.request<{ completeUpload: { version: { id: string } } }>(COMPLETE, { uploadId: upload.id }),
    );
    const version = await waitForVersion(ann.client, done.completeUpload.version.id);
    expect(version.status).toBe('READY');
    const overflow = await ann.client.request(
      `query ($v: ID!) { datasetFiles(versionId: $v, after: "9999999999") { endCursor } }`,
      { v: version.id },
    );
    expectBadInput(overflow, 'after');
    await expectHubServing();
  });
});

describe('third-party text is stored sanitised and the hub stays up', () => {
  let server: Server;
  let receiverUrl = '';
  beforeAll(async () => {
    // A webhook receiver whose reply carries NUL bytes and bytes that are not UTF-8.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () =>
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(Buffer.concat([Buffer.from('boom\u0000after-nul '), Buffer.from([0xff, 0xfe, 0x00])])),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a webhook receiver answering with a NUL byte: the delivery is recorded, retried, and the hub keeps serving', async () => {
    const created = ok(
      await ann.client.request<{ createWebhook: { webhook: { id: string } } }>(
        `mutation ($t: ID!, $u: String!) { createWebhook(teamId: $t, url: $u, events: [MODEL_PUBLISHED]) { webhook { id } } }`,
        { t: teamId, u: receiverUrl },
      ),
    ).createWebhook;
    await hub.hub.services.webhooks.emit(teamId, 'model.published', { probe: 'nul' });
    // The first attempt is recorded and its failure handed to the job queue, which schedules a second attempt:
    // both need the reply's text to be storable.
    const deadline = Date.now() + 60_000;
    let rows: (typeof webhookDeliveries.$inferSelect)[] = [];
    while (Date.now() < deadline) {
      rows = await hub.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.webhookId, created.webhook.id));
      if (rows.some((r) => r.attempt >= 2 && r.status === 'failed')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const first = rows.find((r) => r.attempt === 1);
    expect(first?.status).toBe('failed');
    expect(first?.statusCode).toBe(500);
    // The NUL and the invalid bytes are replaced (egress.ts keeps a short excerpt with them as '?').
    expect(first?.responseSnippet).toMatch(/^boom.?after-nul /);
    expect(first?.responseSnippet).not.toContain('\u0000');
    expect(rows.some((r) => r.attempt >= 2)).toBe(true);
    await hub.db.update(webhooks).set({ active: false }).where(eq(webhooks.id, created.webhook.id));
    await expectHubServing();
  });

  it('a zip whose caption .txt holds a NUL byte prepares (caption sanitised) and the version can be deleted', async () => {
    const datasetId = await createDataset(ann.client, teamId, 'nul-caption');
    const files = [
      {
        path: 'pets.zip',
        bytes: buildZip([
          { name: 'cats/1.png', data: await solidPng(3) },
          { name: 'cats/1.txt', data: Buffer.from('a cat\u0000 on a mat') },
        ]),
        contentType: 'application/zip',
      },
    ];
    const upload = ok(await createUpload(ann.client, datasetId, files)).createUpload;
    await uploadAll(upload, files);
    const done = ok(
      await ann.client.request<{ completeUpload: { version: { id: string } } }>(COMPLETE, { uploadId: upload.id }),
    );
    const version = await waitForVersion(ann.client, done.completeUpload.version.id);
    expect(version.status, version.error ?? '').toBe('READY');
    const [image] = await hub.db.select().from(datasetFiles).where(eq(datasetFiles.versionId, version.id));
    expect(image?.caption).toBe('a cat on a mat');
    ok(await ann.client.request(`mutation ($id: ID!) { deleteDatasetVersion(id: $id) { id } }`, { id: version.id }));
    expect(await listKeys(hub.store, `datasets/${datasetId}/v1/`)).toEqual([]);
    await expectHubServing();
  });
});

describe('runs need images', () => {
  it('startRun on a dataset version with 0 accepted images is BAD_USER_INPUT naming datasetVersionId', async () => {
    const datasetId = await createDataset(ann.client, teamId, 'all-rejected', 8);
    const files = [{ path: 'broken.png', bytes: CORRUPT_PNG, contentType: 'image/png' }];
    const upload = ok(await createUpload(ann.client, datasetId, files)).createUpload;
    await uploadAll(upload, files);
    const done = ok(
      await ann.client.request<{ completeUpload: { version: { id: string } } }>(COMPLETE, { uploadId: upload.id }),
    );
    const version = await waitForVersion(ann.client, done.completeUpload.version.id);
    expect([version.status, version.acceptedCount, version.rejectedCount]).toEqual(['READY', 0, 1]);
    const res = await ann.client.request(START_RUN, {
      input: { name: 'nothing to learn', datasetVersionId: version.id, config: tinyConfig() },
    });
    expectBadInput(res, 'datasetVersionId');
    expect(res.errors?.[0]?.message).toMatch(/no accepted images/);
  });
});

describe('a version stuck PREPARING (its prepare job never ran: the hub crashed) can be deleted', () => {
  let idle: TestHub;
  beforeAll(async () => {
    idle = await startTestHub({ jobs: { workers: false }, logLevel: 'silent' });
  });
  afterAll(() => idle?.close());

  it('deleteDatasetVersion removes the version and its uploaded objects', async () => {
    const bob = await signUpUser(idle, 'Bob');
    const team = await createTeam(bob, 'Idle', 'idle');
    const datasetId = await createDataset(bob.client, team, 'stuck');
    const files = [{ path: 'a.png', bytes: await solidPng(5), contentType: 'image/png' }];
    const upload = ok(await createUpload(bob.client, datasetId, files)).createUpload;
    await uploadAll(upload, files);
    const done = ok(
      await bob.client.request<{ completeUpload: { version: { id: string; status: string } } }>(COMPLETE, {
        uploadId: upload.id,
      }),
    );
    expect(done.completeUpload.version.status).toBe('PREPARING');
    expect((await listKeys(idle.store, `datasets/${datasetId}/`)).length).toBeGreaterThan(0);
    const deleted = ok(
      await bob.client.request<{ deleteDatasetVersion: { versions: unknown[] } }>(
        `mutation ($id: ID!) { deleteDatasetVersion(id: $id) { versions { id } } }`,
        { id: done.completeUpload.version.id },
      ),
    );
    expect(deleted.deleteDatasetVersion.versions).toEqual([]);
    expect(await listKeys(idle.store, `datasets/${datasetId}/`)).toEqual([]);
  });
});
