import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { TRAINER_API_PREFIX } from '@dapple/contracts/trainer-protocol';
import { RunConfigSchema } from '@dapple/contracts/run-config';
import { runTokens } from '@dapple/db';
import type { GqlClient } from '@dapple/testing';
import { insertRunningRun, type TestHub } from '@dapple/server/testing';
import { makePng } from './png';

/** Setup helpers for the live-update browser tests: runs that report like a trainer, datasets over the upload protocol. */

export function ok<T>(res: { data?: T | null; errors?: unknown[] }, what: string): T {
  expect(res.errors, `${what}: ${JSON.stringify(res.errors)}`).toBeUndefined();
  return res.data!;
}

/** A team of the user's, and the user's id. */
export async function teamOf(api: GqlClient, name: string, slug: string): Promise<{ teamId: string; userId: string }> {
  const teamId = ok(
    await api.request<{ createTeam: { id: string } }>(
      `mutation ($input: CreateTeamInput!) { createTeam(input: $input) { id } }`,
      { input: { name, slug } },
    ),
    'createTeam',
  ).createTeam.id;
  const userId = ok(await api.request<{ me: { id: string } }>(`query { me { id } }`), 'me').me.id;
  return { teamId, userId };
}

/**
 * A run in `running` with a trainer token, as the scheduler leaves it when it starts a trainer, but with no
 * process: the test reports for it through the trainer API (`report`, `finish`).
 */
export async function reportingRun(hub: TestHub, teamId: string, userId: string, name: string) {
  const config = RunConfigSchema.parse({ preset: 'tiny', steps: 100_000 });
  const run = await insertRunningRun(hub.db, { teamId, createdBy: userId, name, config });
  const token = `e2e-${randomBytes(16).toString('hex')}`;
  await hub.db
    .insert(runTokens)
    .values({ runId: run.id, attempt: 1, tokenHash: createHash('sha256').update(token).digest('hex') });
  const call = async (path: string, body: unknown) => {
    const res = await fetch(`${hub.url}${TRAINER_API_PREFIX}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    return res.json();
  };
  return {
    id: run.id,
    /** Points of `key` (default loss) for steps [from, to), at most 1000 per request (the trainer API's limit). */
    async report(from: number, to: number, value: (step: number) => number = (s) => 1 / (1 + s), key = 'loss') {
      for (let start = from; start < to; start += 1000) {
        const points = [];
        for (let step = start; step < Math.min(to, start + 1000); step++)
          points.push({ key, step, value: value(step) });
        await call('/metrics', { points });
      }
    },
    finish: (step: number) => call('/finish', { outcome: 'succeeded', step }),
  };
}

/** A prepared dataset version of `n` generated 16×16 RGB PNGs, uploaded over the upload protocol (needs the hub's job workers). */
export async function uploadDataset(
  api: GqlClient,
  teamId: string,
  n: number,
  name = 'squares',
): Promise<{ datasetId: string; versionId: string }> {
  const dataset = ok(
    await api.request<{ createDataset: { id: string } }>(
      `mutation ($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`,
      {
        input: { teamId, name, resolution: 16, channels: 3 },
      },
    ),
    'createDataset',
  ).createDataset;
  const versionId = await uploadVersion(api, dataset.id, n);
  await expect
    .poll(
      async () =>
        ok(
          await api.request<{ datasetVersion: { status: string } }>(
            `query ($id: ID!) { datasetVersion(id: $id) { status } }`,
            { id: versionId },
          ),
          'datasetVersion',
        ).datasetVersion.status,
      {
        timeout: 120_000,
        interval: 500,
      },
    )
    .toBe('READY');
  return { datasetId: dataset.id, versionId };
}

/** Uploads `n` generated PNGs as a new version of the dataset and completes the upload (preparation starts). */
export async function uploadVersion(api: GqlClient, datasetId: string, n: number): Promise<string> {
  const files = Array.from({ length: n }, (_, i) => ({ path: `sq-${i}.png`, bytes: makePng(16, 16, i + 1) }));
  const upload = ok(
    await api.request<{
      createUpload: {
        id: string;
        files: {
          index: number;
          parts: { url: string; method: string; headers: { name: string; value: string }[] }[];
        }[];
      };
    }>(
      `mutation ($input: CreateUploadInput!) { createUpload(input: $input) { id files { index parts { url method headers { name value } } } } }`,
      {
        input: {
          datasetId,
          files: files.map((f) => ({ path: f.path, size: f.bytes.length, contentType: 'image/png' })),
        },
      },
    ),
    'createUpload',
  ).createUpload;
  for (const file of upload.files) {
    // Files this small are one PUT each.
    const part = file.parts[0]!;
    const res = await fetch(part.url, {
      method: part.method,
      headers: Object.fromEntries(part.headers.map((h) => [h.name, h.value])),
      body: files[file.index]!.bytes as Uint8Array<ArrayBuffer>,
    });
    await res.arrayBuffer();
    expect(res.status, `PUT ${files[file.index]!.path}`).toBeLessThan(300);
  }
  return ok(
    await api.request<{ completeUpload: { version: { id: string } } }>(
      `mutation ($id: ID!) { completeUpload(uploadId: $id) { version { id } } }`,
      { id: upload.id },
    ),
    'completeUpload',
  ).completeUpload.version.id;
}
