import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConfigFromGraphQL } from '@dapple/contracts/run-config-shape';
import { datasets, datasetVersions, runs, runTokens, type Run } from '@dapple/db';
import { prepareDataset } from '@dapple/datasets';
import { DiskStore } from '@dapple/storage';
import { freePort, type GqlResponse } from '@dapple/testing';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { TEST_SECRET, type TestHub } from './support/hub.ts';
import { eq } from 'drizzle-orm';
import sharp from 'sharp';
import { expect } from 'vitest';
import type { RunsConfig } from '../src/services/runs/run-scheduler-setup.ts';
import { sha256Hex } from '../src/services/auth/secrets.ts';

/** n small grey images with a bright square at a random place (deterministic per index). */
export async function blobImages(n: number, side: number): Promise<{ path: string; bytes: Buffer }[]> {
  const out = [];
  for (let i = 0; i < n; i++) {
    const pixels = Buffer.alloc(side * side, 20);
    const s = Math.max(2, Math.floor(side / 3));
    const x0 = (i * 7) % (side - s);
    const y0 = (i * 5) % (side - s);
    for (let y = y0; y < y0 + s; y++) for (let x = x0; x < x0 + s; x++) pixels[y * side + x] = 230;
    const bytes = await sharp(pixels, { raw: { width: side, height: side, channels: 1 } })
      .png()
      .toBuffer();
    out.push({ path: `img-${String(i).padStart(3, '0')}.png`, bytes });
  }
  return out;
}

/**
 * A ready dataset version written straight through prepareDataset and the tables (no upload, no job):
 * what the reliability tests train on. The acceptance test goes through the upload API instead.
 */
export async function readyDatasetVersion(
  hub: TestHub,
  teamId: string,
  opts: {
    resolution?: number;
    channels?: 1 | 3;
    n?: number;
    name?: string;
    images?: { path: string; bytes: Buffer }[];
  } = {},
) {
  const resolution = opts.resolution ?? 8;
  const channels = opts.channels ?? 1;
  const images = opts.images ?? (await blobImages(opts.n ?? 32, resolution));
  const [dataset] = await hub.db
    .insert(datasets)
    .values({ teamId, name: opts.name ?? `blobs-${Math.random().toString(36).slice(2, 8)}`, resolution, channels })
    .returning();
  const prefix = `datasets/${dataset!.id}/v1/`;
  const { manifest } = await prepareDataset({
    files: images.map((f) => ({ path: f.path, size: f.bytes.length, open: async () => [f.bytes] })),
    resolution,
    channels,
    thumbnailSize: 0,
    previewCount: 4,
    writeObject: async (name, data, size) => {
      await hub.store.put(`${prefix}${name}`, data, { size });
    },
  });
  const [version] = await hub.db
    .insert(datasetVersions)
    .values({
      datasetId: dataset!.id,
      number: 1,
      status: 'ready',
      fileCount: images.length,
      acceptedCount: manifest.counts.accepted,
      contentHash: manifest.versionHash,
      manifestKey: `${prefix}manifest.json`,
      manifest: manifest,
      preparedAt: new Date(),
    })
    .returning();
  return { datasetId: dataset!.id, versionId: version!.id };
}

/** Ann, her team "Lab" and a ready dataset version in it: what a test needs before it starts a run. */
export async function annWithDataset(
  hub: TestHub,
  dataset: Parameters<typeof readyDatasetVersion>[2] = {},
): Promise<{ ann: SignedInUser; teamId: string; versionId: string }> {
  const ann = await signUpUser(hub, 'Ann');
  const teamId = await createTeam(ann, 'Lab', 'lab');
  const { versionId } = await readyDatasetVersion(hub, teamId, dataset);
  return { ann, teamId, versionId };
}

/**
 * A disk store of the test's own, signing URLs for a port picked here: the tests that stop a hub (or its database)
 * and start another keep the store and the port, so what the first hub signed still resolves.
 */
export async function ownDiskStore(
  prefix: string,
): Promise<{ store: DiskStore; port: number; remove: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const port = await freePort();
  const store = new DiskStore({ root, publicBaseUrl: `http://127.0.0.1:${port}`, signingSecret: TEST_SECRET });
  return { store, port, remove: () => rm(root, { recursive: true, force: true }) };
}

/**
 * Runs settings for tests: a temp log dir, one CPU slot, quick polling; trainers use wasm on one thread
 * (DAPPLE_CPU_WORKERS=1). These tests are about the hub's side of a run (scheduling, crashes, restarts, cancels,
 * metrics): two data-parallel worker threads per trainer each load TF.js and wasm again and sync every step, which
 * for the tiny model doubled a run's wall time (60 steps: 14 s against 6 s at load 6) without checking anything more.
 * The worker-thread trainer against a real hub is apps/trainer/test/cpu-workers.test.ts's subject, and
 * runs-acceptance.test.ts keeps the default (as many workers as usable CPUs) for the whole loop.
 */
export async function testRunsConfig(
  overrides: Partial<RunsConfig> = {},
): Promise<RunsConfig & { logDir: string; cleanup(): Promise<void> }> {
  const logDir = await mkdtemp(join(tmpdir(), 'dapple-runs-test-'));
  return {
    logDir,
    slots: [{ id: 'cpu', gpu: null }],
    pollMs: 200,
    stopGraceMs: 60_000,
    trainerEnv: { DAPPLE_TF_BACKEND: 'wasm', DAPPLE_CPU_WORKERS: '1' },
    ...overrides,
    cleanup: () => rm(logDir, { recursive: true, force: true }),
  };
}

/**
 * A tiny config that trains in seconds on 8×8 grey images, as GraphQL variables (enum values such as the
 * preset in their GraphQL names; `storedConfig` gives the schema's own values).
 */
export function tinyConfig(overrides: Record<string, unknown> = {}) {
  return {
    preset: 'TINY',
    model: { resolution: 8, baseChannels: 8, groups: 4, attentionResolutions: [4] },
    steps: 40,
    batchSize: 8,
    timesteps: 100,
    sampleEvery: 20,
    sampleCount: 4,
    sampleSteps: 5,
    checkpointEvery: 10,
    keepCheckpoints: 2,
    reportEverySec: 0.5,
    ...overrides,
  };
}

export function ok<T>(res: GqlResponse<T>): T {
  expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
  return res.data!;
}

export async function runRow(hub: TestHub, id: string): Promise<Run> {
  const [run] = await hub.db.select().from(runs).where(eq(runs.id, id));
  return run!;
}

/** Polls the run row until `check` passes (real processes: no fixed sleeps). */
export async function waitForRun(
  hub: TestHub,
  id: string,
  check: (run: Run) => boolean,
  what: string,
  timeoutMs = 240_000,
): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  let run = await runRow(hub, id);
  while (!check(run)) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for run ${id} to be ${what}; it is ${run.status} at step ${run.step} (error: ${run.error})`,
      );
    await new Promise((r) => setTimeout(r, 200));
    run = await runRow(hub, id);
  }
  return run;
}

/** Kills every trainer process group the database knows about (tests must not leave processes behind). */
export async function killTrainers(hub: TestHub | { db: TestHub['db'] }): Promise<void> {
  const rows = await hub.db.select({ handle: runs.executorHandle }).from(runs);
  for (const { handle } of rows) {
    const pid = Number(handle);
    if (!pid) continue;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export const START_RUN = `mutation ($input: StartRunInput!) { startRun(input: $input) { id status attempt } }`;

/**
 * A tiny run of `user`'s put in `running` with a trainer token we know, as the scheduler leaves it when it starts
 * a trainer: for tests of the trainer API on a hub without an executor.
 */
export async function runningRunWithToken(
  hub: TestHub,
  user: SignedInUser,
  datasetVersionId: string,
): Promise<{ id: string; token: string }> {
  const id = ok(await user.client.request(START_RUN, { input: { datasetVersionId, name: 'r', config: tinyConfig() } }))
    .startRun.id as string;
  const token = `test-token-${id}-${Math.random().toString(36).slice(2)}`;
  await hub.db
    .update(runs)
    .set({ status: 'running', attempt: 1, startedAt: new Date(), lastHeartbeatAt: new Date() })
    .where(eq(runs.id, id));
  await hub.db.insert(runTokens).values({ runId: id, attempt: 1, tokenHash: sha256Hex(token) });
  return { id, token };
}
export const RUN = `query ($id: ID!) { run(id: $id) {
  id status attempt error progress { step totalSteps imagesPerSec etaSeconds }
  checkpoints { step sizeBytes } sampleGrids { step url width height seeds }
  logs(tail: 50) { attempt stream line } events { fromStatus toStatus message }
} }`;

/** A config written as GraphQL variables (`preset: 'TINY'`) with the zod schema's own values (`preset: 'tiny'`). */
export function storedConfig(config: Record<string, unknown>): Record<string, unknown> {
  return runConfigFromGraphQL(config) as Record<string, unknown>;
}

/**
 * A Glow run config as startRun takes it (GraphQL input): a flow small
 * enough to train in seconds on 8×8 images.
 */
export function tinyGlowConfig(overrides: Record<string, unknown> = {}) {
  return {
    architecture: 'GLOW',
    preset: 'GLOW_TINY',
    model: { resolution: 8, levels: 2, depth: 2, hiddenChannels: 16 },
    steps: 20,
    batchSize: 8,
    warmupSteps: 10,
    sampleEvery: 20,
    sampleCount: 4,
    heldOutEvery: 10,
    heldOutImages: 8,
    checkpointEvery: 10,
    keepCheckpoints: 2,
    reportEverySec: 0.5,
    ...overrides,
  };
}
