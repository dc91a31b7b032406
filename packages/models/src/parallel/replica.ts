import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../backend.ts';
import { nodeWasmDir } from '../backend/node-wasm-dir.ts';
import { makeSchedule } from '../diffusion/schedule.ts';
import { createTrainer, type Trainer } from '../diffusion/train.ts';
import { createUNet, type UNet } from '../diffusion/unet.ts';
import { Rng } from '../rng.ts';
import { GradientExchange } from './exchange.ts';
import { cpuSince, sharedClockMs, threadCpuMs } from './thread-cpu.ts';
import type { FromReplica, NamedArray, ReplicaSetup, ToReplica } from './protocol.ts';
import { weightsHash } from './weights-hash.ts';

/**
 * One data-parallel replica (ranks 1…N−1), the logic of a worker thread (worker.ts) apart from its port: the
 * same UNet and optimizer as rank 0, no EMA (only rank 0 samples and checkpoints) and no Rng of its own
 * (rank 0 draws each step's key). It applies the same summed gradient with the same kernels as rank 0, so
 * its weights stay bit-identical to rank 0's (checked with weightsHash).
 */
export class Replica {
  private constructor(
    private readonly setup: ReplicaSetup,
    private readonly model: UNet,
    private readonly trainer: Trainer,
    private readonly exchange: GradientExchange,
    readonly backend: string,
  ) {}

  static async create(setup: ReplicaSetup): Promise<Replica> {
    // wasmPaths given: selectBackend's own lookup is a dynamic import of a .ts file, which the CommonJS hook of
    // a worker thread cannot load.
    const report = await selectBackend({ prefer: setup.backend, fallback: false, wasmPaths: nodeWasmDir() });
    tf.enableProdMode();
    const model = createUNet(setup.unet, 0);
    const trainer = createTrainer({
      model,
      schedule: makeSchedule(setup.schedule),
      prediction: setup.prediction,
      ...(setup.loss !== undefined ? { loss: setup.loss } : {}),
      optimizer: setup.optimizer,
      lr: setup.lr,
      ema: false,
      ...(setup.clipNorm !== undefined ? { clipNorm: setup.clipNorm } : {}),
      ...(setup.microBatch !== undefined ? { microBatch: setup.microBatch } : {}),
      ...(setup.labelDropout !== undefined ? { labelDropout: setup.labelDropout } : {}),
      rng: new Rng(0),
    });
    const exchange = GradientExchange.attach(setup.exchange);
    return new Replica(setup, model, trainer, exchange, report.backend);
  }

  get bucketSizes(): number[] {
    return this.trainer.optimizer.layout.buckets.map((b) => b.size);
  }

  /** Handles one request; throws on failure (the worker turns that into an `error` reply). */
  async handle(msg: ToReplica): Promise<FromReplica> {
    switch (msg.type) {
      case 'sync':
        this.sync(msg.weights, msg.optimizer);
        return { type: 'synced', id: msg.id, hash: await weightsHash(this.model.variables) };
      case 'grads': {
        if (msg.shape[0] === 0) {
          // A batch smaller than the worker count: this rank adds nothing.
          this.bucketSizes.forEach((_, i) => this.exchange.bucket(this.setup.rank, i).fill(0));
          const none = { perSample: new Float32Array(0), t: new Int32Array(0), mse: new Float32Array(0) };
          const idle = { computeMs: 0, computeCpuMs: 0, writeCpuMs: 0, doneAt: sharedClockMs() };
          return { type: 'grads', id: msg.id, ...none, ...idle };
        }
        const t0 = performance.now();
        const cpu0 = threadCpuMs();
        const images = tf.tensor4d(msg.images, msg.shape);
        const labels = msg.labels ? tf.tensor1d(msg.labels, 'int32') : undefined;
        try {
          const g = await this.trainer.computeGradients(labels ? { images, labels } : { images }, {
            key: msg.key,
            start: msg.start,
            total: msg.total,
          });
          const computeMs = performance.now() - t0;
          const cpu1 = threadCpuMs();
          await writeGradients(this.exchange, this.setup.rank, g.flats);
          tf.dispose(g.flats);
          const doneAt = sharedClockMs();
          const reply: FromReplica = {
            type: 'grads',
            id: msg.id,
            perSample: g.perSample,
            t: g.t,
            mse: g.mse,
            computeMs,
            computeCpuMs: cpuSince(cpu0, cpu1),
            writeCpuMs: cpuSince(cpu1),
            doneAt,
          };
          if (g.vlb) reply.vlb = g.vlb;
          return reply;
        } finally {
          tf.dispose([images, ...(labels ? [labels] : [])]);
        }
      }
      case 'reduce': {
        const cpu0 = threadCpuMs();
        this.exchange.reduce(msg.lo, msg.hi);
        return { type: 'reduced', id: msg.id, cpuMs: cpuSince(cpu0) };
      }
      case 'apply': {
        const cpu0 = threadCpuMs();
        const update = await applySummed(this.trainer, this.exchange, this.backend);
        const reply: FromReplica = { type: 'applied', id: msg.id, gradNorm: update.gradNorm, cpuMs: cpuSince(cpu0) };
        if (msg.hash) reply.hash = await weightsHash(this.model.variables);
        return reply;
      }
      case 'hash':
        return { type: 'hash', id: msg.id, hash: await weightsHash(this.model.variables) };
    }
  }

  private sync(weights: NamedArray[], optimizer: NamedArray[]): void {
    for (const w of weights) {
      const v = this.model.variables.get(w.name);
      if (!v) throw new Error(`sync: the replica's model has no weight ${w.name}`);
      tf.tidy(() => v.assign(tf.tensor(w.values, w.shape, w.dtype)));
    }
    const state = new Map(optimizer.map((s) => [s.name, tf.tensor(s.values, s.shape, s.dtype)]));
    try {
      this.trainer.setState({ step: 0, optimizer: state, rngState: new Rng(0).getState() });
    } finally {
      tf.dispose([...state.values()]);
    }
  }
}

/**
 * Copies a rank's flat gradient buckets into its region of the exchange: on wasm straight from the heap (one
 * copy instead of data()'s copy and then another: ~2× faster on `base`, bench/parallel-micro.ts).
 */
export async function writeGradients(exchange: GradientExchange, rank: number, flats: tf.Tensor1D[]): Promise<void> {
  const heap = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as Partial<HeapReader>) : null;
  for (let i = 0; i < flats.length; i++) {
    const f = flats[i]!;
    const values = heap?.typedArrayFromHeap ? heap.typedArrayFromHeap(f) : ((await f.data()) as Float32Array);
    exchange.bucket(rank, i).set(values);
  }
}

interface HeapReader {
  /** tfjs-backend-wasm: a view of a tensor's values in the heap (valid until the next allocation). */
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}

/**
 * Applies the summed gradient in region 0 of the exchange. The tensors are copies: the cpu backend would
 * otherwise keep a view of shared memory that the next step overwrites (wasm copies into its heap anyway).
 */
export async function applySummed(trainer: Trainer, exchange: GradientExchange, backend: string) {
  const flats = trainer.optimizer.layout.buckets.map((_, i) => {
    const view = exchange.bucket(0, i);
    return tf.tensor1d(backend === 'wasm' ? view : view.slice());
  });
  try {
    return await trainer.applyGradients(flats);
  } finally {
    tf.dispose(flats);
  }
}
