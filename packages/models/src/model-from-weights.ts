import type * as tf from '@tensorflow/tfjs';
import { createUNet, validateUNetConfig, type UNet, type UNetConfig } from './diffusion/unet.ts';
import { glowFromCheckpoint, glowFromInferenceWeights } from './glow/checkpoint.ts';
import type { Glow } from './glow/model.ts';
import type { Checkpoint, InferenceWeights, JsonValue } from './checkpoint/types.ts';

/** A network rebuilt from a file, tagged with its family. */
export type LoadedModel = { architecture: 'ddpm'; model: UNet } | { architecture: 'glow'; model: Glow };

function unetConfigOf(config: JsonValue): UNetConfig {
  const root = config !== null && typeof config === 'object' && !Array.isArray(config) ? config : null;
  const unet = root?.['unet'];
  if (unet === null || typeof unet !== 'object' || Array.isArray(unet))
    throw new RangeError('model config: unet is missing (this file was not written for a DDPM model)');
  validateUNetConfig(unet as unknown as UNetConfig);
  return unet as unknown as UNetConfig;
}

function unetWith(config: UNetConfig, weights: ReadonlyMap<string, tf.Tensor>, what: string): UNet {
  const model = createUNet(config);
  for (const [name, v] of model.variables) {
    const t = weights.get(name);
    if (!t || t.shape.join() !== v.shape.join()) {
      model.dispose();
      throw new Error(
        `${what} lacks weight ${name} of shape [${v.shape.join(',')}]: it was saved for another architecture`,
      );
    }
    v.assign(t);
  }
  return model;
}

/**
 * The network a checkpoint or published weights hold, by the architecture the file records: a Glow for
 * 'glow', a UNet (config under `unet`, the trainer's and the hub's layout) for 'ddpm' — which is also what
 * files written before the field existed load as. `ema: true` takes a checkpoint's EMA weights.
 */
export function modelFromWeights(source: Checkpoint | InferenceWeights, opts: { ema?: boolean } = {}): LoadedModel {
  const architecture = source.architecture ?? 'ddpm';
  const isCheckpoint = 'variables' in source;
  if (architecture === 'glow') {
    return {
      architecture,
      model: isCheckpoint ? glowFromCheckpoint(source, opts) : glowFromInferenceWeights(source),
    };
  }
  const weights = isCheckpoint ? (opts.ema ? source.ema : source.variables) : source.weights;
  if (!weights) throw new Error('checkpoint has no EMA weights');
  return {
    architecture,
    model: unetWith(unetConfigOf(source.config), weights, isCheckpoint ? 'checkpoint' : 'inference weights'),
  };
}
