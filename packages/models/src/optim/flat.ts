import * as tf from '@tensorflow/tfjs';
import { sumAll } from '../nn/sum-all.ts';
import { concatFlat, splitFlat } from './flat-copy.ts';
import { webgpuKernelsActive } from '../nn/webgpu/enabled.ts';
import { webgpuGlobalNorm, webgpuOptimAvailable } from '../nn/webgpu/optim.ts';

/**
 * Packs a model's variables into a few flat 1-D buckets. Per-parameter updates (Adam, EMA, norms) then run
 * as a handful of large element-wise ops per bucket instead of ~15 small ops per variable: on wasm the
 * per-op dispatch cost of ~150 variables × (optimizer + EMA + clipping) was a fixed ~90 ms per step, more
 * than the whole forward pass of the tiny model. Buckets are capped so the flat copies stay small.
 */
export interface Bucket {
  names: string[];
  sizes: number[];
  shapes: number[][];
  size: number;
}

export const DEFAULT_BUCKET_ELEMENTS = 1 << 22;

export class FlatLayout {
  readonly buckets: Bucket[] = [];

  constructor(variables: Map<string, tf.Tensor>, maxElements = DEFAULT_BUCKET_ELEMENTS) {
    let current: Bucket | null = null;
    for (const [name, v] of variables) {
      if (current === null || (current.size + v.size > maxElements && current.size > 0)) {
        current = { names: [], sizes: [], shapes: [], size: 0 };
        this.buckets.push(current);
      }
      current.names.push(name);
      current.sizes.push(v.size);
      current.shapes.push(v.shape);
      current.size += v.size;
    }
  }

  /** Concatenates the named tensors of bucket `i` into one 1-D tensor; missing names become zeros. */
  flatten(tensors: Map<string, tf.Tensor>, i: number): tf.Tensor1D {
    const b = this.buckets[i]!;
    return tf.tidy(() => concatFlat(b.names.map((name, k) => tensors.get(name) ?? tf.zeros([b.sizes[k]!]))));
  }

  /** Splits a bucket's flat tensor back into named tensors of the original shapes (caller owns them). */
  unflatten(flat: tf.Tensor1D, i: number): Map<string, tf.Tensor> {
    const b = this.buckets[i]!;
    const parts = splitFlat(flat, b.shapes);
    return new Map(b.names.map((name, k) => [name, parts[k]!]));
  }

  /** Writes a bucket's flat values into the named variables. */
  assign(flat: tf.Tensor1D, i: number, variables: Map<string, tf.Variable>): void {
    const parts = this.unflatten(flat, i);
    for (const [name, t] of parts) {
      variables.get(name)!.assign(t);
      t.dispose();
    }
  }
}

/** Global L2 norm of flat buckets, as a scalar tensor (tree-summed: base has > 8 buckets, WebGPU's AddN limit). */
export function flatGlobalNorm(flats: tf.Tensor1D[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(sumAll(flats.map((f) => tf.sum(tf.square(f))))) as tf.Scalar);
}

/**
 * The global norm of flat buckets and, with `maxNorm`, the clipping scale min(1, maxNorm / (‖g‖ + 1e-6)), both as
 * scalar tensors (nothing is read back). On webgpu two dispatches (nn/webgpu/optim.ts), elsewhere ops.
 */
export function flatNormAndClipScale(flats: tf.Tensor1D[], maxNorm?: number): { norm: tf.Scalar; scale?: tf.Scalar } {
  if (webgpuKernelsActive() && webgpuOptimAvailable()) {
    const [norm, scale] = webgpuGlobalNorm(flats, maxNorm);
    return scale ? { norm, scale } : { norm };
  }
  const norm = flatGlobalNorm(flats);
  if (maxNorm === undefined) return { norm };
  return { norm, scale: tf.tidy(() => tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6))) as tf.Scalar) };
}
