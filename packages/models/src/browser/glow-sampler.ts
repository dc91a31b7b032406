import * as tf from '@tensorflow/tfjs';
import type { InferenceWeights } from '../checkpoint/types.ts';
import { toUint8Images } from '../diffusion/samplers/images.ts';
import { glowFromInferenceWeights } from '../glow/checkpoint.ts';
import { DEFAULT_TEMPERATURE } from '../glow/model.ts';
import { glowInterpolate, glowSample } from '../glow/sample.ts';
import type { InterpolateRequest, ModelSampler, SampleRequest } from './sampler.ts';
import type { GlowSamplingSpec } from './spec.ts';

/** Highest temperature a request may ask for (the priors' std is scaled by T; beyond 2 samples are noise). */
export const MAX_GLOW_TEMPERATURE = 2;

/**
 * A Glow request: count, seed, label, temperature. `steps` and `sampler` mean nothing to a flow (one inverse
 * pass) and are ignored; guidance is refused (a flow has no classifier-free guidance).
 */
export function validateGlowSampleRequest(
  spec: GlowSamplingSpec,
  r: SampleRequest,
  limits: { maxCount?: number } = {},
): void {
  const maxCount = limits.maxCount ?? 64;
  if (!Number.isInteger(r.count) || r.count < 1 || r.count > maxCount)
    throw new RangeError(`count must be an integer in [1, ${maxCount}], got ${r.count}`);
  if (!Number.isSafeInteger(r.seed) || r.seed < 0) throw new RangeError(`seed must be an integer ≥ 0, got ${r.seed}`);
  if (r.temperature !== undefined && r.temperature !== null) {
    if (!Number.isFinite(r.temperature) || r.temperature <= 0 || r.temperature > MAX_GLOW_TEMPERATURE)
      throw new RangeError(`temperature must be a number in (0, ${MAX_GLOW_TEMPERATURE}], got ${r.temperature}`);
  }
  const numClasses = spec.glow.numClasses;
  if (r.label !== undefined && r.label !== null) {
    if (numClasses === undefined)
      throw new RangeError('label: this model is unconditional (it was trained without labels)');
    if (!Number.isInteger(r.label) || r.label < 0 || r.label >= numClasses)
      throw new RangeError(
        `label must be an integer in [0, ${numClasses - 1}] (the model's ${numClasses} classes), got ${r.label}`,
      );
  }
  if (r.guidance !== undefined && r.guidance !== null)
    throw new RangeError(
      'guidance: a Glow model has no classifier-free guidance (pick a label, or a lower temperature)',
    );
  if (r.batchSize !== undefined && (!Number.isInteger(r.batchSize) || r.batchSize < 1))
    throw new RangeError(`batchSize must be a positive integer, got ${r.batchSize}`);
}

/**
 * A sampler over published Glow weights: one inverse pass per batch at the request's temperature. A
 * class-conditional flow without a requested label draws image k from class (firstImageIndex + k) mod classes,
 * so a split request still gives each image the same class. Takes ownership of `weights.weights`.
 */
export function createGlowSampler(weights: InferenceWeights, spec: GlowSamplingSpec): ModelSampler {
  let model;
  try {
    model = glowFromInferenceWeights(weights);
  } finally {
    tf.dispose([...weights.weights.values()]);
  }
  const glow = model;
  const paramCount = glow.paramCount();
  return {
    spec,
    paramCount,
    paramBytes: paramCount * 4,
    async sample(request) {
      validateGlowSampleRequest(spec, request, { maxCount: Number.MAX_SAFE_INTEGER });
      const { resolution: r, channels: c, numClasses } = spec.glow;
      const first = request.firstImageIndex ?? 0;
      const labels =
        numClasses === undefined
          ? undefined
          : Array.from({ length: request.count }, (_, k) =>
              request.label !== undefined && request.label !== null ? request.label : (first + k) % numClasses,
            );
      const x = await glowSample({
        model: glow,
        count: request.count,
        seed: request.seed,
        temperature: request.temperature ?? DEFAULT_TEMPERATURE,
        firstImageIndex: first,
        ...(labels ? { labels } : {}),
        ...(request.batchSize ? { batchSize: request.batchSize } : {}),
        ...(request.onProgress ? { onProgress: request.onProgress } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      });
      try {
        return { pixels: await toUint8Images(x), shape: [request.count, r, r, c] };
      } finally {
        x.dispose();
      }
    },
    async interpolate(request: InterpolateRequest) {
      const { resolution: r, channels: c } = spec.glow;
      const per = r * r * c;
      for (const [name, px] of [
        ['a', request.a],
        ['b', request.b],
      ] as const)
        if (px.length !== per)
          throw new RangeError(`${name} must be ${r}×${r}×${c} uint8 pixels (${per} bytes), got ${px.length}`);
      if (request.signal?.aborted) throw new Error('interpolation aborted');
      const toImage = (px: Uint8Array) =>
        tf.tensor3d(
          Float32Array.from(px, (v) => v / 127.5 - 1),
          [r, r, c],
        );
      const a = toImage(request.a);
      const b = toImage(request.b);
      let x: tf.Tensor4D | undefined;
      try {
        x = glowInterpolate(glow, a, b, request.frames);
        return { pixels: await toUint8Images(x), shape: [request.frames, r, r, c] };
      } finally {
        tf.dispose([a, b, ...(x ? [x] : [])]);
      }
    },
    dispose() {
      glow.dispose();
    },
  };
}
