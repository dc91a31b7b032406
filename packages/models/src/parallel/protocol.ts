/**
 * Messages between the data-parallel coordinator (rank 0, the trainer's own thread) and its replica worker
 * threads (ranks 1…N−1). Control flows through postMessage; gradients go through the shared exchange
 * (exchange.ts), never through messages. Every request carries an id and gets exactly one reply.
 */
import type { LossConfig, LossKind } from '../diffusion/losses.ts';
import type { Prediction } from '../diffusion/samplers/types.ts';
import type { ScheduleKind } from '../diffusion/schedule.ts';
import type { StepKey } from '../diffusion/step-noise.ts';
import type { UNetConfig } from '../diffusion/unet.ts';
import type { LrSchedule } from '../optim/lr.ts';
import type { OptimizerConfig } from '../optim/optimizers.ts';
import type { ExchangeHandle } from './exchange.ts';

/** Everything a replica needs to build the same trainer as rank 0 (its `workerData`). */
export interface ReplicaSetup {
  rank: number;
  backend: 'wasm' | 'cpu';
  unet: UNetConfig;
  schedule: { kind: ScheduleKind; T: number };
  prediction: Prediction;
  loss?: LossKind | Omit<LossConfig, 'prediction'>;
  optimizer: OptimizerConfig;
  lr: number | LrSchedule;
  clipNorm?: number;
  microBatch?: number;
  labelDropout?: number;
  exchange: ExchangeHandle;
}

/** Tensors by name as plain arrays (weights, optimizer slots). */
export interface NamedArray {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  values: Float32Array | Int32Array;
}

export type ToReplica =
  /** Take these weights and optimizer state (at start, and after the coordinator's setState). */
  | { type: 'sync'; id: number; weights: NamedArray[]; optimizer: NamedArray[] }
  /** Compute the gradient of this slice and write it into this rank's region of the exchange. */
  | {
      type: 'grads';
      id: number;
      key: StepKey;
      start: number;
      total: number;
      shape: [number, number, number, number];
      images: Float32Array;
      labels?: Int32Array;
    }
  /** Sum exchange elements [lo, hi) of every region into region 0. */
  | { type: 'reduce'; id: number; lo: number; hi: number }
  /** Apply the summed gradient in region 0; `hash`: reply with a hash of the weights after the update. */
  | { type: 'apply'; id: number; hash: boolean }
  | { type: 'hash'; id: number };

export interface GradsReply {
  perSample: Float32Array;
  t: Int32Array;
  mse: Float32Array;
  vlb?: Float32Array;
  /** Milliseconds this rank spent on its slice's forward and backward passes. */
  computeMs: number;
  /** The same in this thread's CPU time (null where the OS does not say: thread-cpu.ts). */
  computeCpuMs: number | null;
  /** CPU milliseconds of copying the gradient into the exchange. */
  writeCpuMs: number | null;
  /** When the gradient was in the exchange (sharedClockMs: comparable between threads). */
  doneAt: number;
}

export type FromReplica =
  /** `threadId`: the worker's kernel thread id (thread-cpu.ts; null off Linux), for per-thread CPU figures. */
  | { type: 'ready'; backend: string; bucketSizes: number[]; threadId: number | null }
  | { type: 'synced'; id: number; hash: string }
  | ({ type: 'grads'; id: number } & GradsReply)
  | { type: 'reduced'; id: number; cpuMs: number | null }
  | { type: 'applied'; id: number; gradNorm: number; cpuMs: number | null; hash?: string }
  | { type: 'hash'; id: number; hash: string }
  | { type: 'error'; id: number | null; message: string };
