/**
 * Messages between the sampling pool (hub thread) and a sampling worker thread. The worker has no
 * database handle and no store of its own: it asks the hub thread for object bytes (`read`), which
 * answers from the ObjectStore with a transferred buffer, and hands back encoded PNGs the same way.
 */
import type { SampleRequest, SamplingSpec } from '@dapple/models/browser';
import type { SamplerKind } from '@dapple/models/config';
import type { EvaluationPhase } from '@dapple/db';

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

export type TaskRequest = Omit<SampleRequest, 'onProgress' | 'signal'> & {
  /**
   * Set for an interpolation job (Glow): `count` frames between these two dataset images (uint8 HWC pixels,
   * read by the hub thread from the dataset's shards) instead of sampling.
   */
  interpolate?: { a: Uint8Array; b: Uint8Array };
};

/**
 * Which network measures the images: the pretrained MobileNetV2 that installs with npm (the default), the
 * legacy offline random one (kept so old rows can be recomputed), or an InceptionV3 graph model by URL or
 * object key.
 */
export type ExtractorConfig =
  | { kind: 'pretrained' }
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

/** Where the dataset version's classifier is cached, and whether it is there yet (the worker trains it when not). */
export interface ClassifierTask {
  /** Object key of its model.json (weights.bin beside it). */
  key: string;
  cached: boolean;
  /** Images it trains on at most (a seeded choice when the dataset has more). */
  maxTrainImages: number;
  /** Optimiser steps when trained. */
  steps: number;
  /** For each model class id: the dataset class with the same name, or null when the dataset has none. */
  datasetClassOf: (number | null)[];
}

export interface EvaluateTask {
  numSamples: number;
  steps: number;
  sampler: SamplerKind;
  eta: number;
  seed: number;
  /** Classifier-free guidance scale for class-conditional models; null = unguided. */
  guidance: number | null;
  /**
   * The model's class ids to sample, in order, the samples spread evenly over them (contiguous blocks of
   * ⌊n/K⌋ or ⌈n/K⌉ images); [] samples the unconditional label.
   */
  labels: number[];
  dataset: { manifest: unknown; prefix: string };
  extractor: ExtractorConfig;
  /** null when the dataset version has fewer than two labels (no classes to tell apart). */
  classifier: ClassifierTask | null;
}

export interface MeanStdSplits {
  mean: number;
  std: number;
  splits: number;
}

export interface ClassifierResult {
  name: string;
  heldOutAccuracy: number;
  /** True when this evaluation trained it (and `files` are to be cached); false when it was loaded from the cache. */
  trained: boolean;
  files?: { modelJson: Uint8Array; weights: Uint8Array };
  /** IS of the samples under the dataset's own classes, and of as many real images (its ceiling). */
  datasetInceptionScore: MeanStdSplits;
  realDatasetInceptionScore: MeanStdSplits;
  /** Conditional models whose classes the dataset has: how often samples are classified as their class. */
  sampleAccuracy: {
    accuracy: number;
    chance: number;
    /** label = the model's class id. */
    perClass: { label: number; count: number; correct: number; accuracy: number }[];
  } | null;
}

export interface EvaluationResult {
  extractor: string;
  paperComparable: boolean;
  numSamples: number;
  kid: { mean: number; std: number; subsetSize: number; numSubsets: number; subsetsDiffer: boolean };
  fid: number;
  /** null when the extractor has no class head (the pretrained MobileNetV2). */
  inceptionScore: MeanStdSplits | null;
  /** IS of as many real images with the same extractor: the ceiling to read the samples' IS against. */
  realInceptionScore: MeanStdSplits | null;
  classifier: ClassifierResult | null;
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

/** Progress of a task: sample jobs report denoising steps, evaluations images (and their phase). */
export type ProgressListener = (done: number, total: number, phase?: EvaluationPhase) => void;

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'read'; readId: number; key: string }
  /** `phase`: an evaluation's (services/evaluations stores it); sample jobs send none. */
  | { type: 'progress'; taskId: number; done: number; total: number; phase?: EvaluationPhase }
  | { type: 'done'; taskId: number; pngs: Uint8Array[]; width: number; height: number; timing: TaskTiming }
  | { type: 'evaluated'; taskId: number; result: EvaluationResult }
  | { type: 'error'; taskId: number; message: string; name: string };
