/**
 * Trains one run attempt in this process against a real hub over HTTP: the hub queues the run (startRun),
 * the test plays the scheduler's part (run `starting`, a run token), and train() does the rest exactly as
 * the trainer process would. Lets a test stop the trainer at a chosen point and read what it stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, memoryHandler, type Checkpoint } from '@dapple/models';
import { TrainerClient } from '@dapple/contracts/trainer-client';
import { checkpoints, runs, runTokens } from '@dapple/db';
import {
  createTeam,
  readyDatasetVersion,
  signUpUser,
  startTestHub,
  type SignedInUser,
  type TestHub,
} from '@dapple/server/testing';
import { and, eq } from 'drizzle-orm';
import { StopSignal, train, type TrainHooks, type TrainOutcome } from '../src/train.ts';

export interface AttemptOptions {
  stopBeforeFirstStep?: boolean;
  /** Default cpu (the slow reference backend). */
  backend?: 'cpu' | 'wasm';
  /** Data-parallel CPU worker threads (DAPPLE_CPU_WORKERS); default 1. */
  cpuWorkers?: number;
  /** DAPPLE_CPU_VERIFY_EVERY */
  cpuVerifyEvery?: number;
  hooks?: TrainHooks;
}

/**
 * An API-only hub (queued runs wait: each test trains its attempts itself with trainAttempt), Ann, her team
 * "Lab" and a ready 8×8 grey dataset version of `dataset` (the given images, or `n` generated ones).
 */
export async function hubWithDataset(
  teamSlug: string,
  dataset: { images: { path: string; bytes: Buffer }[] } | { n: number },
): Promise<{ hub: TestHub; ann: SignedInUser; teamId: string; datasetVersionId: string }> {
  const hub = await startTestHub({ runs: { executor: false } });
  const ann = await signUpUser(hub, 'Ann');
  const teamId = await createTeam(ann, 'Lab', teamSlug);
  const { versionId } = await readyDatasetVersion(hub, teamId, { resolution: 8, channels: 1, ...dataset });
  return { hub, ann, teamId, datasetVersionId: versionId };
}

export async function trainAttempt(
  hub: TestHub,
  runId: string,
  opts: AttemptOptions = {},
): Promise<TrainOutcome & { log: string[] }> {
  const token = randomBytes(24).toString('base64url');
  const [row] = await hub.db.select({ attempt: runs.attempt }).from(runs).where(eq(runs.id, runId));
  const attempt = (row?.attempt ?? 0) + 1; // a resumed run's next attempt
  await hub.db
    .update(runs)
    .set({ status: 'starting', attempt, startedAt: new Date(), lastHeartbeatAt: new Date() })
    .where(eq(runs.id, runId));
  await hub.db
    .insert(runTokens)
    .values({ runId, attempt, tokenHash: createHash('sha256').update(token).digest('hex') });
  const client = new TrainerClient({ hubUrl: hub.url, runToken: token });
  const stop = new StopSignal();
  if (opts.stopBeforeFirstStep) stop.request('the test stops before the first step');
  const log: string[] = [];
  const env = {
    hubUrl: hub.url,
    runId,
    runToken: token,
    backend: opts.backend ?? 'cpu',
    gpu: null,
    cpuWorkers: opts.cpuWorkers ?? 1,
    ...(opts.cpuVerifyEvery !== undefined ? { cpuVerifyEvery: opts.cpuVerifyEvery } : {}),
  };
  let result: Awaited<ReturnType<typeof train>>;
  try {
    result = await train(env, client, stop, (m) => log.push(m), opts.hooks);
  } catch (err) {
    // As main.ts does: the attempt fails with the error's message (the run can then be resumed).
    await client.finish({ outcome: 'failed', step: 0, error: (err as Error).message.slice(0, 4000) });
    throw Object.assign(err as Error, { log });
  }
  await result.reporter.stop();
  await client.finish({ outcome: result.outcome, step: result.step });
  return { outcome: result.outcome, step: result.step, log };
}

/** A checkpoint the trainer committed, read back from the hub's object store (the caller disposes its tensors). */
export async function storedCheckpoint(hub: TestHub, runId: string, step: number): Promise<Checkpoint> {
  const [row] = await hub.db
    .select()
    .from(checkpoints)
    .where(and(eq(checkpoints.runId, runId), eq(checkpoints.step, step)));
  if (!row) throw new Error(`run ${runId} has no checkpoint at step ${step}`);
  return loadCheckpoint(memoryHandler(await readArtifacts(hub, `${row.objectPrefix}/`)));
}

/** model.json + weights.bin under a prefix as tf.io artifacts. */
export async function readArtifacts(hub: TestHub, prefix: string): Promise<tf.io.ModelArtifacts> {
  const read = async (key: string) => {
    const chunks: Buffer[] = [];
    for await (const c of await hub.store.get(key)) chunks.push(Buffer.from(c as Uint8Array));
    return Buffer.concat(chunks);
  };
  const json = JSON.parse((await read(`${prefix}model.json`)).toString('utf8')) as tf.io.ModelJSON;
  const weights = await read(`${prefix}weights.bin`);
  return {
    modelTopology: json.modelTopology ?? undefined,
    weightSpecs: (json.weightsManifest ?? []).flatMap((g) => g.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    ...(json.format !== undefined ? { format: json.format } : {}),
    ...(json.userDefinedMetadata !== undefined ? { userDefinedMetadata: json.userDefinedMetadata } : {}),
  };
}

/** Largest |a − b| over every weight of two same-named weight maps (throws on a missing or reshaped weight). */
export function maxAbsDiff(a: ReadonlyMap<string, tf.Tensor>, b: ReadonlyMap<string, tf.Tensor>): number {
  let max = 0;
  for (const [name, t] of a) {
    const u = b.get(name);
    if (!u) throw new Error(`weight ${name} is missing`);
    if (t.shape.join('x') !== u.shape.join('x'))
      throw new Error(`weight ${name}: [${t.shape.join(',')}] vs [${u.shape.join(',')}]`);
    max = Math.max(
      max,
      tf.tidy(() => tf.max(tf.abs(tf.sub(t, u))).dataSync()[0]!),
    );
  }
  return max;
}
