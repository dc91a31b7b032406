import * as tf from '@tensorflow/tfjs';
import type { InferenceWeights } from '../checkpoint/types.ts';
import { toUint8Images } from '../diffusion/samplers/images.ts';
import { SAMPLER_KINDS, type SamplerKind } from '../diffusion/samplers/kinds.ts';
import { sampleWith } from '../diffusion/samplers/sample.ts';
import type { Denoiser } from '../diffusion/samplers/types.ts';
import { makeSchedule, type NoiseSchedule } from '../diffusion/schedule.ts';
import { createUNet, type UNet } from '../diffusion/unet.ts';
import { createGlowSampler, validateGlowSampleRequest } from './glow-sampler.ts';
import { varianceOf, type DdpmSamplingSpec, type SamplingSpec } from './spec.ts';

export type { SamplerKind };

export interface SampleRequest {
  count: number;
  steps: number;
  sampler: SamplerKind;
  /** DDIM stochasticity (0 = deterministic); ignored by the other samplers. */
  eta?: number;
  seed: number;
  /** Class id for a class-conditional model; unset = the unconditional (null) label. */
  label?: number | null;
  /** Classifier-free guidance scale; needs `label`. */
  guidance?: number | null;
  /** Glow: temperature of the priors (default 0.7); DDPMs refuse it. */
  temperature?: number | null;
  /** Position of the first image within a larger request (see SampleOptions.firstImageIndex). */
  firstImageIndex?: number;
  /** Images per forward pass (default: all); batching never changes the images. */
  batchSize?: number;
  /** (steps done, total steps) over all batches. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface InterpolateRequest {
  /** The two end images, uint8 HWC pixels at the model's resolution and channels. */
  a: Uint8Array;
  b: Uint8Array;
  /** Images in the strip, both ends included (≥ 2). */
  frames: number;
  signal?: AbortSignal;
}

export interface SampledImages {
  /** uint8 NHWC pixels. */
  pixels: Uint8Array;
  shape: [number, number, number, number];
}

export interface ModelSampler {
  readonly spec: SamplingSpec;
  readonly paramCount: number;
  /** Bytes the float32 weights take in memory (what a cache of loaded models budgets). */
  readonly paramBytes: number;
  sample(request: SampleRequest): Promise<SampledImages>;
  /**
   * Glow only (absent on diffusion samplers, which have no exact encoder): `frames` images along the straight
   * line between the latents of two uint8 HWC images; the first and last are a and b at the model's nBits.
   */
  interpolate?(request: InterpolateRequest): Promise<SampledImages>;
  dispose(): void;
}

/** Throws a RangeError naming the request field and its limit. Shared by the server and the browser. */
export function validateSampleRequest(spec: SamplingSpec, r: SampleRequest, limits: { maxCount?: number } = {}): void {
  if (spec.architecture === 'glow') return validateGlowSampleRequest(spec, r, limits);
  const maxCount = limits.maxCount ?? 64;
  const T = spec.schedule.T;
  if (!Number.isInteger(r.count) || r.count < 1 || r.count > maxCount)
    throw new RangeError(`count must be an integer in [1, ${maxCount}], got ${r.count}`);
  if (!Number.isInteger(r.steps) || r.steps < 1 || r.steps > T)
    throw new RangeError(`steps must be an integer in [1, ${T}] (the model's timesteps), got ${r.steps}`);
  if (!SAMPLER_KINDS.includes(r.sampler))
    throw new RangeError(`sampler must be one of ${SAMPLER_KINDS.join(', ')}, got ${String(r.sampler)}`);
  if (r.eta !== undefined && (!Number.isFinite(r.eta) || r.eta < 0 || r.eta > 1))
    throw new RangeError(`eta must be a number in [0, 1], got ${r.eta}`);
  if (!Number.isSafeInteger(r.seed) || r.seed < 0) throw new RangeError(`seed must be an integer ≥ 0, got ${r.seed}`);
  if (r.temperature !== undefined && r.temperature !== null)
    throw new RangeError('temperature: only Glow models sample at a temperature (this one is a diffusion model)');
  const numClasses = spec.unet.numClasses;
  if (r.label !== undefined && r.label !== null) {
    if (numClasses === undefined)
      throw new RangeError('label: this model is unconditional (it was trained without labels)');
    if (!Number.isInteger(r.label) || r.label < 0 || r.label >= numClasses) {
      throw new RangeError(
        `label must be an integer in [0, ${numClasses - 1}] (the model's ${numClasses} classes), got ${r.label}`,
      );
    }
  }
  if (r.guidance !== undefined && r.guidance !== null) {
    if (numClasses === undefined)
      throw new RangeError(
        'guidance: classifier-free guidance needs a class-conditional model; this one is unconditional',
      );
    if (r.label === undefined || r.label === null)
      throw new RangeError('guidance needs a label (the class to guide towards)');
    if (!Number.isFinite(r.guidance) || r.guidance < 0 || r.guidance > 20)
      throw new RangeError(`guidance must be a number in [0, 20], got ${r.guidance}`);
  }
  if (r.batchSize !== undefined && (!Number.isInteger(r.batchSize) || r.batchSize < 1))
    throw new RangeError(`batchSize must be a positive integer, got ${r.batchSize}`);
}

/**
 * Builds the UNet described by `spec`, loads the (EMA) weights into it and returns a sampler.
 * Takes ownership of `weights.weights` (they are disposed once copied). Browser-safe.
 */
export function createModelSampler(weights: InferenceWeights, spec: SamplingSpec): ModelSampler {
  if (spec.architecture === 'glow' || weights.architecture === 'glow') {
    if (spec.architecture !== 'glow' || weights.architecture !== 'glow') {
      tf.dispose([...weights.weights.values()]);
      throw new Error(
        `the weights hold a ${weights.architecture ?? 'ddpm'} model but the config describes a ${spec.architecture ?? 'ddpm'} one`,
      );
    }
    return createGlowSampler(weights, spec);
  }
  return createDdpmSampler(weights, spec);
}

function createDdpmSampler(weights: InferenceWeights, spec: DdpmSamplingSpec): ModelSampler {
  const model: UNet = createUNet(spec.unet, 0);
  try {
    for (const [name, variable] of model.variables) {
      const value = weights.weights.get(name);
      if (!value)
        throw new Error(`the weights lack ${name}: they were saved for another architecture than the stored config`);
      if (value.shape.join(',') !== variable.shape.join(',')) {
        throw new Error(
          `weight ${name} has shape [${value.shape.join(', ')}], the network expects [${variable.shape.join(', ')}]`,
        );
      }
      variable.assign(value);
    }
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    tf.dispose([...weights.weights.values()]);
  }
  const schedule: NoiseSchedule = makeSchedule(spec.schedule);
  const denoiser: Denoiser = (x, t, labels) => model.apply(x, t, labels);
  const paramCount = model.paramCount();

  return {
    spec,
    paramCount,
    paramBytes: paramCount * 4,
    async sample(request) {
      validateSampleRequest(spec, request, { maxCount: Number.MAX_SAFE_INTEGER });
      const { resolution: r, channels: c } = spec.unet;
      const batchSize = Math.min(request.batchSize ?? request.count, request.count);
      const batches = Math.ceil(request.count / batchSize);
      const totalSteps = batches * request.steps;
      const pixels = new Uint8Array(request.count * r * r * c);
      const first = request.firstImageIndex ?? 0;
      for (let b = 0; b < batches; b++) {
        const start = b * batchSize;
        const n = Math.min(batchSize, request.count - start);
        const hasLabel = request.label !== undefined && request.label !== null;
        const labels = hasLabel ? (tf.fill([n], request.label!, 'int32') as tf.Tensor1D) : undefined;
        const guided = hasLabel && request.guidance !== undefined && request.guidance !== null;
        const common = {
          denoiser,
          schedule,
          prediction: spec.prediction,
          shape: [n, r, r, c] as [number, number, number, number],
          seed: request.seed,
          firstImageIndex: first + start,
          ...(labels ? { labels } : {}),
          ...(guided ? { guidanceScale: request.guidance!, nullLabel: spec.unet.numClasses! } : {}),
          onProgress: (step: number) => request.onProgress?.(b * request.steps + step, totalSteps),
          ...(request.signal ? { signal: request.signal } : {}),
        };
        try {
          const x = await sampleWith({
            ...common,
            sampler: request.sampler,
            steps: request.steps,
            ...(request.sampler === 'ddim' ? { eta: request.eta ?? 0 } : {}),
            ...(request.sampler === 'ddpm' ? { variance: varianceOf(spec) } : {}),
          });
          pixels.set(await toUint8Images(x), start * r * r * c);
          x.dispose();
        } finally {
          labels?.dispose();
        }
      }
      return { pixels, shape: [request.count, r, r, c] };
    },
    dispose() {
      model.dispose();
    },
  };
}
