import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestHub, type TestHub } from './support/hub.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { png, buildZip } from '@dapple/datasets/testing';
import { annWithToken, json, runCli } from './cli-harness.ts';

// `dapple dataset upload` → `run start` using only what the CLI printed: ids in full or as short prefixes.

let hub: TestHub;
let home: string;
let env: Record<string, string>;

const dapple = (args: string[]) => runCli(home, args, env, 170_000);

// Small enough that a 2 MiB file is refused at createUpload; the uploads that should succeed are a few kB.
const MAX_UPLOAD_BYTES = 1024 ** 2;

beforeAll(async () => {
  hub = await startTestHub({
    runs: { executor: false },
    jobs: { pollingIntervalSeconds: 0.5 },
    datasets: { upload: { maxUploadBytes: MAX_UPLOAD_BYTES } },
  });
  home = await mkdtemp(join(tmpdir(), 'dapple-cli-upload-'));
  const { token } = await annWithToken(hub.graphqlUrl);
  env = { DAPPLE_URL: hub.url, DAPPLE_TOKEN: token };
});

afterAll(async () => {
  await hub?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

interface Uploaded {
  datasetId: string;
  files: number;
  version: { id: string; number: number; status: string; acceptedCount: number; rejectedCount: number };
}

describe('dapple dataset upload → run start', () => {
  it('uploads a folder as a new dataset, starts a run on it by a short version id, and adds a version from a zip', async () => {
    const folder = join(home, 'pets');
    for (const label of ['cats', 'dogs']) await mkdir(join(folder, label), { recursive: true });
    for (let i = 0; i < 40; i++)
      await writeFile(join(folder, i % 2 ? 'dogs' : 'cats', `${i}.png`), await png(32, 32, i + 1));
    await writeFile(join(folder, '.DS_Store'), 'junk');

    const first = json<Uploaded>(await dapple(['dataset', 'upload', folder, '--resolution', '16', '--wait', '--json']));
    expect(first.files).toBe(40);
    expect(first.version).toMatchObject({ number: 1, status: 'READY', acceptedCount: 40, rejectedCount: 0 });

    const listed = json<{ id: string; name: string; versions: { id: string }[] }[]>(
      await dapple(['dataset', 'list', '--json']),
    );
    expect(listed.map((d) => [d.id, d.name, d.versions[0]?.id])).toEqual([
      ['' + first.datasetId, 'pets', first.version.id],
    ]);
    const table = await dapple(['dataset', 'list']);
    expect(table.stdout).toContain(first.version.id);

    // The version id as printed, shortened to 8 characters (as a person would copy it).
    const run = json<{ id: string; status: string }>(
      await dapple(['run', 'start', '--dataset-version', first.version.id.slice(0, 8), '--preset', 'tiny', '--json']),
    );
    expect(run.status).toBe('QUEUED');
    const cancelled = json<{ id: string; status: string }>(
      await dapple(['run', 'cancel', run.id.slice(0, 8), '--json']),
    );
    expect(cancelled).toEqual({ id: run.id, status: 'CANCELLED' });

    const unknown = await dapple(['run', 'cancel', 'ffffffff']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no run of your teams has an id starting with "ffffffff"');
    const tooShort = await dapple(['run', 'cancel', 'ab']);
    expect(tooShort.stderr).toContain('give at least 4 characters');

    // A zip into the same dataset (by a short dataset id) becomes its version 2.
    const zipPath = join(home, 'more.zip');
    await writeFile(
      zipPath,
      buildZip(
        await Promise.all(
          [100, 101, 102].map(async (seed) => ({
            name: `birds/${seed}.png`,
            data: await png(32, 32, seed),
            method: 0 as const,
          })),
        ),
      ),
    );
    const second = json<Uploaded>(
      await dapple(['dataset', 'upload', zipPath, '--dataset', first.datasetId.slice(0, 8), '--wait', '--json']),
    );
    expect(second.datasetId).toBe(first.datasetId);
    expect(second.version).toMatchObject({ number: 2, status: 'READY', acceptedCount: 3 });
  }, 300_000);

  it('leaves no empty dataset behind when the hub refuses the upload of a new one', async () => {
    const folder = join(home, 'too-big');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'huge.png'), Buffer.alloc(2 * MAX_UPLOAD_BYTES));

    const refused = await dapple(['dataset', 'upload', folder, '--json']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`over the limit of ${MAX_UPLOAD_BYTES} bytes per upload`);

    const listed = json<{ name: string }[]>(await dapple(['dataset', 'list', '--json']));
    expect(listed.map((d) => d.name)).not.toContain('too-big');
  }, 120_000);
});
