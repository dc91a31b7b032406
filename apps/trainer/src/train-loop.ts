import {
  loadCheckpoint,
  Rng,
  saveCheckpoint,
  type Checkpoint,
  type GlowTrainerConfig,
  type OptimizerConfig,
} from '@dapple/models';
import { ShardReader, type DatasetManifest } from '@dapple/datasets';
import { effectiveMicroBatch, type RunConfig } from '@dapple/contracts/run-config';
import type { TrainerClient } from '@dapple/contracts/trainer-client';
import type { Assignment } from '@dapple/contracts/trainer-protocol';
import { hubCheckpointHandler, resumeHandler } from './artifacts.ts';
import { isHeldOut, type HeldOutSplit } from './held-out.ts';
import { withRetry } from './hub.ts';
import type { Reporter } from './reporter.ts';
import type { hubShardCache } from './shard-cache.ts';
import { GpuProbe, rssMb } from './system-metrics.ts';

// The plumbing a run attempt has whatever the model family (DDPM in train.ts, Glow in train-glow.ts): the
// families differ in their model, trainer and metrics, not in how a run is resumed, fed, reported and saved.

export type Log = (msg: string) => void;

export interface TrainOutcome {
  outcome: 'succeeded' | 'stopped';
  step: number;
}

/** A stop request from outside the loop (SIGTERM or a cancel seen in a heartbeat reply). */
export class StopSignal {
  requested = false;
  reason = '';
  request(reason: string): void {
    if (this.requested) return;
    this.requested = true;
    this.reason = reason;
  }
}

/**
 * What every family's trainer takes from the run config to optimise: optimizer, schedule, EMA, clipping, seed
 * (an optimizer config, not an instance: a data-parallel trainer builds one per worker).
 */
export type OptimizationOptions = Pick<GlowTrainerConfig, 'lr' | 'ema' | 'clipNorm' | 'rng' | 'microBatch'> & {
  optimizer: OptimizerConfig;
};

export function optimizationOptions(config: RunConfig, seed: number): OptimizationOptions {
  return {
    optimizer: config.optimizer === 'adamw' ? { kind: 'adamw', weightDecay: config.weightDecay } : { kind: 'adam' },
    lr: {
      base: config.lr,
      warmupSteps: config.warmupSteps,
      decay: config.lrDecay,
      ...(config.lrDecay === 'cosine' ? { totalSteps: config.steps } : {}),
    },
    ema: config.emaDecay > 0 ? { maxDecay: config.emaDecay } : false,
    clipNorm: config.clipNorm,
    rng: new Rng(seed),
    microBatch: effectiveMicroBatch(config),
  };
}

/** The checkpoint the assignment resumes from (the caller disposes its tensors). */
export function loadResumeCheckpoint(resumeFrom: NonNullable<Assignment['resumeFrom']>, log: Log): Promise<Checkpoint> {
  return withRetry('loading the checkpoint', () => loadCheckpoint(resumeHandler(resumeFrom)), log);
}

export function resumedMessage(assignment: Assignment, step: number): string {
  const from = assignment.resumeFrom;
  return `resumed from the checkpoint of step ${step}${from && from.runId !== assignment.run.id ? ` of run ${from.runId}` : ''}`;
}

/** The training images, endlessly, in batches: held-out images never among them. */
export function trainingReader(o: {
  manifest: DatasetManifest;
  config: RunConfig;
  seed: number;
  step: number;
  split: HeldOutSplit;
  shards: ReturnType<typeof hubShardCache>;
}): ShardReader {
  const { manifest, config, split } = o;
  const trainCount = manifest.counts.accepted - split.count;
  return new ShardReader({
    manifest,
    batchSize: config.batchSize,
    epochs: Infinity,
    // A resumed attempt draws a different order, not a replay of the first attempt's batches.
    seed: o.seed + o.step,
    dropLast: trainCount >= config.batchSize,
    filter: (shard, i) => !isHeldOut(split, shard, i),
    open: o.shards.open,
  });
}

/** Images per second over windows of at least 2 s (null until the first window closes). */
export class ImagesPerSec {
  private windowStart = performance.now();
  private windowImages = 0;
  value: number | null = null;

  add(images: number): void {
    this.windowImages += images;
  }

  /**
   * Closes the window when it spans 2 s — the first one already at 0.5 s, so that a short run has a rate to show —
   * and returns the latest rate.
   */
  update(): number | null {
    const elapsed = (performance.now() - this.windowStart) / 1000;
    if (elapsed >= (this.value === null ? 0.5 : 2)) {
      this.value = this.windowImages / elapsed;
      this.windowStart = performance.now();
      this.windowImages = 0;
    }
    return this.value;
  }
}

/**
 * Throughput, memory and GPU use, recorded at most once per report interval — and as soon as the first throughput
 * is known: the first interval's record comes before any rate exists (its window needs 2 s), so a run shorter than
 * the interval would otherwise never show images/s.
 */
export class SystemMetrics {
  private lastAt = 0;
  private rateRecorded = false;
  private readonly gpu: GpuProbe;

  constructor(
    gpuDevice: string | null,
    private readonly everyMs: number,
  ) {
    this.gpu = new GpuProbe(gpuDevice);
  }

  /** Returns whether it recorded (the interval had passed). */
  async record(reporter: Reporter, step: number, imagesPerSec: number | null): Promise<boolean> {
    const firstRate = imagesPerSec !== null && !this.rateRecorded;
    if (!firstRate && Date.now() - this.lastAt < this.everyMs) return false;
    this.lastAt = Date.now();
    if (imagesPerSec !== null) this.rateRecorded = true;
    const g = await this.gpu.read();
    reporter.record(step, { images_per_sec: imagesPerSec, rss_mb: rssMb(), gpu_util: g?.util, gpu_mem_mb: g?.memMb });
    return true;
  }
}

/**
 * Saves checkpoints to the hub, once per step: `beforeSave` brings every metric up to the step into the reporter
 * (flushed before the save: a resumed attempt continues after the checkpoint's step, so every step up to it must
 * already be stored, or a crash right after the checkpoint would leave a gap).
 */
export function hubCheckpointer(o: {
  client: TrainerClient;
  reporter: Reporter;
  log: Log;
  /** The step already saved (a resumed attempt's), or -1. */
  lastSaved: number;
  beforeSave?: () => Promise<void>;
  contents: () => Checkpoint;
}): (step: number) => Promise<void> {
  let lastSaved = o.lastSaved;
  return async (step) => {
    if (lastSaved === step) return;
    o.reporter.set({ phase: 'checkpointing' });
    await o.beforeSave?.();
    await o.reporter.flush();
    const handler = hubCheckpointHandler(o.client, step, o.log);
    await saveCheckpoint(handler, o.contents());
    lastSaved = step;
    o.log(`checkpoint at step ${step} (kept: ${handler.committed?.kept.join(', ')})`);
    o.reporter.set({ phase: 'training' });
  };
}

/** Held-out evaluation, sample grid and checkpoint, each on its schedule and at the last step. */
export async function runScheduled(
  step: number,
  config: RunConfig,
  due: { evaluateHeldOut(): Promise<void>; sampleGrid(): Promise<void>; checkpoint(): Promise<void> },
): Promise<void> {
  if (step % config.heldOutEvery === 0 || step === config.steps) await due.evaluateHeldOut();
  if (step % config.sampleEvery === 0 || step === config.steps) await due.sampleGrid();
  if (step % config.checkpointEvery === 0 || step === config.steps) await due.checkpoint();
}

/** The end of an attempt: a stop (checkpointed unless the hub revoked it) or the last step. */
export async function finishAttempt(
  o: { stop: StopSignal; reporter: Reporter; log: Log; checkpoint(): Promise<void> },
  step: number,
): Promise<TrainOutcome> {
  if (o.stop.requested) {
    o.log(`stopping at step ${step}: ${o.stop.reason}`);
    o.reporter.set({ phase: 'stopping' });
    if (o.reporter.stopReason !== 'revoked') await o.checkpoint();
    return { outcome: 'stopped', step };
  }
  await o.checkpoint();
  return { outcome: 'succeeded', step };
}
