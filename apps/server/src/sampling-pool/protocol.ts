/**
 * Messages between the sampling pool (hub thread) and a sampling worker thread. The worker has no
 * database handle and no store of its own: it asks the hub thread for object bytes (`read`), which
 * answers from the ObjectStore with a transferred buffer, and hands back encoded PNGs the same way.
 */
import type { SampleRequest, SamplingSpec } from '@dapple/models/browser/index';
import type { SamplerKind } from '@dapple/models/diffusion/samplers/kinds';

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

/** Which network measures the images: the built-in offline one, or an InceptionV3 graph model by URL or object key. */
export type ExtractorConfig =
  | { kind: 'offline' }
  | {
      kind: 'inception';
      /** http(s) URL of the converted model.json (weights next to it). */
      url?: string;
      /** Object key of model.json in the hub's store (weights files next to it, as model.json names them). */
      objectKey?: string;
      poolOutput?: string;
      logitsOutput?: string;
      inputRange?: '[-1,1]' | '[0,1]' | '[0,255]';
      label?: string;
    };

export interface EvaluateTask {
  numSamples: number;
  steps: number;
  sampler: SamplerKind;
  eta: number;
  seed: number;
  dataset: { manifest: unknown; prefix: string };
  extractor: ExtractorConfig;
}

export interface EvaluationResult {
  extractor: string;
  paperComparable: boolean;
  numSamples: number;
  kid: { mean: number; std: number; subsetSize: number; numSubsets: number };
  fid: number;
  inceptionScore: { mean: number; std: number; splits: number };
  /** IS of as many real images with the same extractor: the ceiling to read the samples' IS against. */
  realInceptionScore: { mean: number; std: number; splits: number };
}

export type ToWorker =
  | { type: 'sample'; taskId: number; model: ModelRef; request: TaskRequest }
  | { type: 'evaluate'; taskId: number; model: ModelRef; task: EvaluateTask }
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
  | { type: 'evaluated'; taskId: number; result: EvaluationResult }
  | { type: 'error'; taskId: number; message: string; name: string };
