/**
 * Messages between the sampling pool (hub thread) and a sampling worker thread. The worker has no
 * database handle and no store of its own: it asks the hub thread for object bytes (`read`), which
 * answers from the ObjectStore with a transferred buffer, and hands back encoded PNGs the same way.
 */
import type { SampleRequest, SamplingSpec } from '@dapple/diffusion/browser/index';

export interface WorkerOptions {
  /** TF.js backend to prefer ('wasm' here; tfjs-node where installed). */
  backend?: 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
  /** LRU of loaded models: at most this many… */
  maxModels: number;
  /** …and at most this many bytes of float32 parameters. */
  maxParamBytes: number;
}

/** What identifies a loadable model version: its id (cache key), where its files are, how to rebuild it. */
export interface ModelRef {
  id: string;
  modelJsonKey: string;
  weightsKeys: Record<string, string>;
  spec: SamplingSpec;
}

export type TaskRequest = Omit<SampleRequest, 'onProgress' | 'signal'>;

export type ToWorker =
  | { type: 'sample'; taskId: number; model: ModelRef; request: TaskRequest }
  | { type: 'cancel'; taskId: number }
  | { type: 'readResult'; readId: number; bytes?: Uint8Array; error?: string };

export interface TaskTiming {
  /** Milliseconds spent loading the model (0 on a cache hit). */
  loadMs: number;
  sampleMs: number;
  encodeMs: number;
  cacheHit: boolean;
}

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'read'; readId: number; key: string }
  | { type: 'progress'; taskId: number; done: number; total: number }
  | { type: 'done'; taskId: number; pngs: Uint8Array[]; width: number; height: number; timing: TaskTiming }
  | { type: 'error'; taskId: number; message: string; name: string };
