/**
 * Browser-safe entry for sampling a published model with TF.js: no Node module is imported at the top
 * level on this path (the wasm backend's Node helper is a guarded dynamic import in backend.ts).
 *
 *   const model = await loadModelForSampling({ modelJson: files.modelJsonUrl, weights: { 'weights.bin': files.weightsUrl } });
 *   const { pixels, shape } = await model.sample({ count: 4, steps: 50, sampler: 'ddim', seed: 1 });
 */
import * as tf from '@tensorflow/tfjs';
import { loadInferenceWeights } from '../checkpoint/inference.ts';
import { createModelSampler, type ModelSampler } from './sampler.ts';
import { samplingSpecFromConfig, type SamplingSpec } from './spec.ts';

export {
  createModelSampler,
  validateSampleRequest,
  type ModelSampler,
  type SampleRequest,
  type SampledImages,
  type InterpolateRequest,
  type SamplerKind,
} from './sampler.ts';
export {
  samplingSpecFromConfig,
  specImages,
  varianceOf,
  type DdpmSamplingSpec,
  type GlowSamplingSpec,
  type SamplingSpec,
} from './spec.ts';
export { MAX_GLOW_TEMPERATURE } from './glow-sampler.ts';
export { selectBackend, type BackendReport } from '../backend.ts';

export interface ModelUrls {
  /** URL of model.json (may carry a signature query). */
  modelJson: string;
  /**
   * URL of each weights file named in model.json (normally just 'weights.bin'). Needed when URLs are signed
   * per object; without it the files are fetched relative to the model.json URL.
   */
  weights?: Record<string, string>;
}

export interface LoadModelOptions {
  /** fetch to use (default the global one). */
  fetchFunc?: typeof fetch;
  /** Overrides the spec read from the stored config (the hub also gives it in GraphQL). */
  spec?: SamplingSpec;
}

/** An IOHandler over HTTP that maps weight file names to their own (signed) URLs. */
export function modelHttpHandler(
  urls: ModelUrls | string,
  options: Pick<LoadModelOptions, 'fetchFunc'> = {},
): tf.io.IOHandler {
  const u: ModelUrls = typeof urls === 'string' ? { modelJson: urls } : urls;
  const weights = u.weights;
  const baseFetch = options.fetchFunc ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  // tf.io.http reads the body of a failed weights request as weights: refuse non-2xx answers here instead.
  const checkedFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const res = await baseFetch(input, init);
    if (!res.ok) {
      const where = String(input instanceof Request ? input.url : input).split('?')[0];
      throw new Error(`download of ${where} failed: HTTP ${res.status} ${res.statusText}`.trim());
    }
    return res;
  };
  return tf.io.http(u.modelJson, {
    fetchFunc: checkedFetch,
    ...(weights
      ? {
          weightUrlConverter: async (name: string) => {
            const url = weights[name];
            if (!url)
              throw new Error(`no URL given for weights file ${name} (have: ${Object.keys(weights).join(', ')})`);
            return url;
          },
        }
      : {}),
  });
}

/** Downloads a model version's files, builds its UNet and returns a sampler (call dispose() when done). */
export async function loadModelForSampling(
  urls: ModelUrls | string,
  options: LoadModelOptions = {},
): Promise<ModelSampler> {
  const weights = await loadInferenceWeights(modelHttpHandler(urls, options));
  let spec: SamplingSpec;
  try {
    spec = options.spec ?? samplingSpecFromConfig(weights.config);
  } catch (err) {
    tf.dispose([...weights.weights.values()]);
    throw err;
  }
  return createModelSampler(weights, spec);
}
