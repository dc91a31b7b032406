import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import {
  checkTrainBatch,
  createTrainer,
  stepMetricsOf,
  type AppliedUpdate,
  type BatchSlice,
  type SliceGradients,
  type StepMetrics,
  type TrainBatch,
  type Trainer,
  type TrainerConfig,
  type TrainerState,
} from '../diffusion/train.ts';
import type { StepKey } from '../diffusion/step-noise.ts';
import type { OptimizerConfig } from '../optim/optimizers.ts';
import { GradientExchange } from './exchange.ts';
import type { NamedArray, ReplicaSetup } from './protocol.ts';
import { ReplicaError, ReplicaHandle } from './replica-handle.ts';
import { applySummed, writeGradients } from './replica.ts';
import { spawnReplica } from './spawn.ts';
import { cpuSince, sharedClockMs, threadCpuMs, threadId } from './thread-cpu.ts';
import { weightsHash } from './weights-hash.ts';

/**
 * Data-parallel training on CPU cores: this thread (rank 0) and N−1 worker threads (replica.ts), each with its
 * own TF.js wasm instance (wasm in Node runs one thread per instance, so this is how a run uses every core).
 *
 * A step: rank 0 draws the step's key and cuts the global batch into N contiguous slices; each rank computes
 * its slice's gradient (micro-batched as configured; every image's randomness comes from the key and its
 * index in the global batch, so the slicing changes nothing but float summation order) and writes it into the
 * shared exchange (exchange.ts); the ranks sum disjoint chunks of it in place; then every rank applies the
 * same clipped optimizer update to the summed gradient. The update is replicated, not computed once and
 * broadcast: it costs less wall time than copying the new weights into every worker (bench/parallel-micro.ts)
 * and keeps replicas bit-identical without a copy; only rank 0 keeps the EMA, draws keys and checkpoints.
 *
 * Failure: a replica that crashes or throws fails the step with an error naming it; rank 0 applies an update
 * only once every slice's gradient is summed, so its state (what a checkpoint saves) is never half-updated.
 * The trainer is then broken: every later step throws the same error.
 */
export interface DataParallelOptions {
  /** Threads in all, this one included (≥ 1). */
  workers: number;
  /** The replicas' TF.js backend: wasm (or cpu, the slow reference). */
  backend: 'wasm' | 'cpu';
  /** Compare a hash of every replica's weights with rank 0's every this many steps (0: only verifyReplicas()). */
  verifyEvery?: number;
  /** How a replica thread is started (default: spawnReplica). */
  spawn?: (setup: ReplicaSetup) => Worker;
  /**
   * Diagnostics (bench/cpu-parallel-case.ts): rank 0 computes its slice only after the others' are in, so no two
   * slices run at once. Each rank's compute CPU is then what its slice costs without the other ranks beside it on
   * the cores; compared with a normal step, that separates contention (shared caches, memory bandwidth, helper
   * threads) from the work every rank repeats. Same results, slower steps.
   */
  serialSlices?: boolean;
}

export interface DataParallelTrainerConfig extends Omit<TrainerConfig, 'optimizer'> {
  /** A configuration (each replica builds its own optimizer from it). */
  optimizer: OptimizerConfig;
}

/** Where a step's time went, per rank (rank 0 first). */
export interface ParallelStepStats {
  ranks: number;
  /** Images each rank computed. */
  images: number[];
  /** Milliseconds each rank spent on forward + backward passes of its slice. */
  computeMs: number[];
  /** The same in each rank's thread CPU time (null where the OS does not say: thread-cpu.ts). */
  computeCpuMs: (number | null)[];
  /**
   * Thread CPU milliseconds each rank spent on the exchange and the update: copying its gradient in, summing
   * its chunk, applying the update (rank 0's also holds the EMA update and reading the gradient norm back).
   */
  exchangeCpuMs: (number | null)[];
  /** How long each rank, its gradient written, waited for the last one's: the slices' imbalance. */
  barrierWaitMs: number[];
  /** Rank 0's work before its own slice: cutting the batch and sending the other slices. */
  dispatchMs: number;
  /** From the step's start until every gradient was in the exchange. */
  gradientsMs: number;
  reduceMs: number;
  applyMs: number;
  wallMs: number;
}

export class DataParallelTrainer implements Trainer {
  /** Statistics of the last step. */
  lastStep: ParallelStepStats | null = null;
  private synced = false;
  private broken: Error | null = null;
  private closed = false;

  private constructor(
    private readonly local: Trainer,
    private readonly replicas: ReplicaHandle[],
    private readonly exchange: GradientExchange,
    private readonly backendName: string,
    private readonly verifyEvery: number,
    private readonly serialSlices: boolean,
    /** The schedule's T (for loss-by-quartile). */
    private readonly T: number,
    /** Each rank's kernel thread id, rank 0 first (null off Linux). */
    readonly threadIds: (number | null)[],
  ) {}

  /** Starts N−1 replica threads and waits until each has built its model (a few seconds each, in parallel). */
  static async create(config: DataParallelTrainerConfig, options: DataParallelOptions): Promise<DataParallelTrainer> {
    const ranks = options.workers;
    if (!Number.isInteger(ranks) || ranks < 1) throw new RangeError(`workers must be an integer ≥ 1, got ${ranks}`);
    if (tf.getBackend() !== options.backend) {
      throw new Error(
        `data-parallel training runs on the ${options.backend} backend, but this thread runs ${tf.getBackend()}`,
      );
    }
    const local = createTrainer(config);
    const exchange = GradientExchange.create({
      ranks,
      bucketSizes: local.optimizer.layout.buckets.map((b) => b.size),
    });
    const spawn = options.spawn ?? spawnReplica;
    const replicas: ReplicaHandle[] = [];
    let replicaThreads: (number | null)[];
    try {
      for (let rank = 1; rank < ranks; rank++) {
        const setup: ReplicaSetup = {
          rank,
          backend: options.backend,
          unet: config.model.config,
          schedule: { kind: config.schedule.kind, T: config.schedule.T },
          prediction: config.prediction,
          ...(config.loss !== undefined ? { loss: config.loss } : {}),
          optimizer: config.optimizer,
          lr: config.lr,
          ...(config.clipNorm !== undefined ? { clipNorm: config.clipNorm } : {}),
          ...(config.microBatch !== undefined ? { microBatch: config.microBatch } : {}),
          ...(config.labelDropout !== undefined ? { labelDropout: config.labelDropout } : {}),
          exchange: exchange.handle,
        };
        replicas.push(new ReplicaHandle(rank, ranks, spawn(setup)));
      }
      const ready = await Promise.all(replicas.map((r) => r.ready));
      const mine = exchange.shape.bucketSizes.join(',');
      ready.forEach((msg, i) => {
        if (msg.bucketSizes.join(',') !== mine)
          throw new Error(
            `${replicas[i]!.name} packs its parameters differently (${msg.bucketSizes.join(',')} vs ${mine})`,
          );
        if (msg.backend !== options.backend)
          throw new Error(`${replicas[i]!.name} runs ${msg.backend}, not ${options.backend}`);
      });
      replicaThreads = ready.map((r) => r.threadId);
    } catch (err) {
      await Promise.all(replicas.map((r) => r.worker.terminate()));
      local.dispose();
      throw err;
    }
    return new DataParallelTrainer(
      local,
      replicas,
      exchange,
      options.backend,
      options.verifyEvery ?? 0,
      options.serialSlices ?? false,
      config.schedule.T,
      [threadId(), ...replicaThreads],
    );
  }

  /** The replica threads, ranks 1…N−1 (diagnostics; tests stop one to check how a crash is handled). */
  get threads(): Worker[] {
    return this.replicas.map((r) => r.worker);
  }

  /** Threads in all, this one included. */
  get workers(): number {
    return this.replicas.length + 1;
  }
  get model() {
    return this.local.model;
  }
  get optimizer() {
    return this.local.optimizer;
  }
  get ema() {
    return this.local.ema;
  }
  /**
   * Rank 0's resolution, the one the run reports. Always fp32 here (these backends are not webgpu), which is what
   * the steps run: computeGradients/applyGradients, the path every rank takes, are fp32 only.
   */
  get precision() {
    return this.local.precision;
  }
  get stepCount(): number {
    return this.local.stepCount;
  }

  async step(batch: TrainBatch): Promise<StepMetrics> {
    this.throwIfUnusable();
    checkTrainBatch(this.local.model.config, batch);
    const stepNo = this.local.stepCount + 1;
    try {
      return await this.parallelStep(batch);
    } catch (err) {
      // Past the checks above, a failure leaves the replicas in an unknown state: the trainer is unusable. Rank 0
      // applies an update only after every slice's gradient is summed, so its state (what a checkpoint saves)
      // is the last whole step's.
      const dead = this.replicas.find((r) => r.failure);
      const cause = dead ? dead.failure! : (err as Error);
      this.broken = new ReplicaError(
        `${cause.message}; step ${stepNo} failed and training cannot go on with ` +
          `these CPU workers (a new attempt resumes from the last checkpoint)`,
        { cause: err },
      );
      throw this.broken;
    }
  }

  private async parallelStep(batch: TrainBatch): Promise<StepMetrics> {
    if (!this.synced) await this.syncReplicas();
    const t0 = performance.now();
    const [b, h, w, c] = batch.images.shape;
    const key = this.local.drawStepKey();
    const sizes = splitEvenly(b, this.workers);
    const starts = sizes.map((_, r) => sizes.slice(0, r).reduce((x, y) => x + y, 0));
    const perImage = h * w * c;
    const pixels = batch.images.dataSync() as Float32Array;
    const labels = batch.labels ? (batch.labels.dataSync() as Int32Array) : undefined;

    const gradients = this.replicas.map((r) => {
      const start = starts[r.rank]!;
      const size = sizes[r.rank]!;
      const images = pixels.slice(start * perImage, (start + size) * perImage);
      const part = labels?.slice(start, start + size);
      return r.request(
        {
          type: 'grads',
          key,
          start,
          total: b,
          shape: [size, h, w, c],
          images,
          ...(part ? { labels: part } : {}),
        },
        'grads',
        [images.buffer, ...(part ? [part.buffer] : [])],
      );
    });
    // Rank 0's slice here, while the replicas compute theirs (after them, for the serialSlices diagnostic).
    if (this.serialSlices) await Promise.all(gradients);
    const mineStart = performance.now();
    const cpu0 = threadCpuMs();
    const mine = await this.sliceGradients(batch, sizes[0]!, { key, start: 0, total: b });
    const mineMs = performance.now() - mineStart;
    const cpu1 = threadCpuMs();
    try {
      await writeGradients(this.exchange, 0, mine.flats);
    } finally {
      tf.dispose(mine.flats);
    }
    const mineDoneAt = sharedClockMs();
    const theirs = await Promise.all(gradients);
    const gradientsDone = performance.now();
    const allDoneAt = Math.max(mineDoneAt, ...theirs.map((g) => g.doneAt));

    const chunks = this.replicas.map((r) => {
      const [lo, hi] = this.exchange.chunk(r.rank);
      return r.request({ type: 'reduce', lo, hi }, 'reduced');
    });
    const cpu2 = threadCpuMs();
    this.exchange.reduce(...this.exchange.chunk(0));
    const cpu3 = threadCpuMs();
    const reducedBy = await Promise.all(chunks);
    const reduced = performance.now();

    const verify = this.verifyEvery > 0 && (this.local.stepCount + 1) % this.verifyEvery === 0;
    const applies = this.replicas.map((r) => r.request({ type: 'apply', hash: verify }, 'applied'));
    // Wait for the replicas even if this rank's update throws: none may still read the exchange afterwards.
    const [update, applied] = await Promise.all([
      applySummed(this.local, this.exchange, this.backendName).then((u) => ({ ...u, cpuMs: cpuSince(cpu3) })),
      Promise.all(applies),
    ]);
    if (verify)
      await this.compareHashes(
        applied.map((a) => a.hash!),
        `after step ${update.step}`,
      );
    const end = performance.now();

    this.lastStep = {
      ranks: this.workers,
      images: sizes,
      computeMs: [mineMs, ...theirs.map((g) => g.computeMs)],
      computeCpuMs: [cpuSince(cpu0, cpu1), ...theirs.map((g) => g.computeCpuMs)],
      exchangeCpuMs: [
        sumKnown([cpuSince(cpu1, cpu2), cpuSince(cpu2, cpu3), update.cpuMs]),
        ...theirs.map((g, i) => sumKnown([g.writeCpuMs, reducedBy[i]!.cpuMs, applied[i]!.cpuMs])),
      ],
      barrierWaitMs: [allDoneAt - mineDoneAt, ...theirs.map((g) => allDoneAt - g.doneAt)],
      dispatchMs: mineStart - t0,
      gradientsMs: gradientsDone - t0,
      reduceMs: reduced - gradientsDone,
      applyMs: end - reduced,
      wallMs: end - t0,
    };
    return stepMetricsOf(update, [mine, ...theirs], this.T);
  }

  private async sliceGradients(batch: TrainBatch, size: number, slice: BatchSlice): Promise<SliceGradients> {
    const images = batch.images.slice([0, 0, 0, 0], [size, -1, -1, -1]) as tf.Tensor4D;
    const labels = batch.labels?.slice([0], [size]);
    try {
      return await this.local.computeGradients(labels ? { images, labels } : { images }, slice);
    } finally {
      tf.dispose([images, ...(labels ? [labels] : [])]);
    }
  }

  /** Rank 0's weights and optimizer state into every replica; checks they arrived bit for bit. */
  private async syncReplicas(): Promise<void> {
    const weights: NamedArray[] = [];
    for (const [name, v] of this.local.model.variables) weights.push(await namedArray(name, v));
    const optimizer: NamedArray[] = [];
    for (const [name, t] of this.local.optimizer.getState()) optimizer.push(await namedArray(name, t));
    const replies = await Promise.all(
      this.replicas.map((r) => r.request({ type: 'sync', weights, optimizer }, 'synced')),
    );
    await this.compareHashes(
      replies.map((r) => r.hash),
      'after copying the weights',
    );
    this.synced = true;
  }

  /** Throws unless every replica's weights hash equals rank 0's. */
  async verifyReplicas(): Promise<void> {
    this.throwIfUnusable();
    if (!this.synced) return; // nothing ran yet: the first step copies rank 0's weights
    const replies = await Promise.all(this.replicas.map((r) => r.request({ type: 'hash' }, 'hash')));
    await this.compareHashes(
      replies.map((r) => r.hash),
      `at step ${this.local.stepCount}`,
    );
  }

  private async compareHashes(hashes: string[], when: string): Promise<void> {
    const mine = await weightsHash(this.local.model.variables);
    const differing = hashes.map((h, i) => (h === mine ? null : this.replicas[i]!.name)).filter((n) => n !== null);
    if (differing.length) {
      this.broken = new ReplicaError(
        `the weights of ${differing.join(', ')} differ from rank 0's ${when} (hash ${hashes.join(', ')} vs ${mine})`,
      );
      throw this.broken;
    }
  }

  private throwIfUnusable(): void {
    if (this.closed) throw new Error('the data-parallel trainer is closed');
    if (this.broken) throw this.broken;
  }

  drawStepKey(): StepKey {
    return this.local.drawStepKey();
  }
  /** On this thread only (a slice's gradient is the same wherever it is computed). */
  computeGradients(batch: TrainBatch, slice: BatchSlice): Promise<SliceGradients> {
    return this.local.computeGradients(batch, slice);
  }
  /** Not data-parallel: the replicas would miss this update, so the next step re-copies rank 0's state. */
  applyGradients(flats: tf.Tensor1D[]): Promise<AppliedUpdate> {
    this.synced = false;
    return this.local.applyGradients(flats);
  }

  getState(): TrainerState {
    return this.local.getState();
  }
  /** Takes effect in the replicas at the next step (which first copies rank 0's weights and optimizer state). */
  setState(state: TrainerState): void {
    this.local.setState(state);
    this.synced = false;
  }

  /** Stops the replica threads (without waiting) and frees rank 0's optimizer and EMA. */
  dispose(): void {
    if (this.closed) return;
    void this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.replicas.map((r) => r.worker.terminate()));
    this.local.dispose();
  }
}

/** The sum, or null when any part is unknown. */
function sumKnown(parts: (number | null)[]): number | null {
  return parts.some((p) => p === null) ? null : parts.reduce<number>((a, p) => a + p!, 0);
}

/** n split into k contiguous parts as even as possible, larger first (10 over 3: 4, 3, 3; 1 over 2: 1, 0). */
export function splitEvenly(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

async function namedArray(name: string, t: tf.Tensor): Promise<NamedArray> {
  const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
  const values = (await t.data()) as Float32Array | Int32Array;
  return { name, shape: t.shape, dtype, values };
}

/** A trainer over `workers` CPU threads: the plain trainer for one, a DataParallelTrainer for more. */
export async function createCpuTrainer(
  config: DataParallelTrainerConfig,
  options: DataParallelOptions,
): Promise<Trainer & { readonly workers: number; close(): Promise<void> }> {
  if (options.workers <= 1) {
    const trainer = createTrainer(config);
    return Object.assign(trainer, {
      workers: 1,
      close: async () => trainer.dispose(),
    });
  }
  return DataParallelTrainer.create(config, options);
}
