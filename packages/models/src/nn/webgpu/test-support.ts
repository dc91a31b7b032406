import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../backend.ts';
import { takeWebGpuErrors } from '../../backend/webgpu.ts';
import { Rng } from '../../rng.ts';
import { forceKernelPaths, logDispatches } from './runtime.ts';
import { setWebGpuKernels } from './enabled.ts';

/**
 * For the WebGPU kernel tests: whether a WebGPU adapter exists here (Mesa's lavapipe is enough: install
 * mesa-vulkan-drivers 25.x from bookworm-backports), and helpers to run the same function on the cpu backend (the
 * reference) and on webgpu with our kernels, comparing values and gradients.
 */
export async function probeWebGpu(): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await selectBackend({ prefer: 'webgpu', fallback: false });
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  } finally {
    await selectBackend({ prefer: 'cpu', fallback: false });
  }
}

export const WEBGPU_SKIP_HINT =
  'no WebGPU adapter: install Mesa 25 (mesa-vulkan-drivers from bookworm-backports) to run these on lavapipe';

export type Path = { f16: boolean; subgroups: boolean };

/** The kernel paths to test on this adapter: plain f32 always; f16/subgroups where the device offers them. */
export const PATHS: Path[] = [
  { f16: false, subgroups: false },
  { f16: false, subgroups: true },
  { f16: true, subgroups: true },
];

export interface Outputs {
  values: Float32Array[];
  shapes: number[][];
  /** The dispatches of our kernels that ran (forward and gradient), by label. */
  kernels: string[];
}

/**
 * Runs `f` on fresh copies of `inputs` and returns its output(s) and the gradients of Σ out·dy with respect to
 * every input (dy fixed, so gradients are compared against a non-trivial upstream gradient).
 */
async function evaluate(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: { values: Float32Array; shape: number[] }[],
  dySeed: number,
  grads: boolean,
): Promise<Outputs> {
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape));
  const out: tf.Tensor[] = [];
  logDispatches(true);
  const y = f(...xs);
  out.push(y);
  if (grads) {
    const dyValues = new Float32Array(y.size);
    let s = dySeed;
    for (let i = 0; i < y.size; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      dyValues[i] = s / 2 ** 32 - 0.5;
    }
    const dy = tf.tensor(dyValues, y.shape);
    out.push(...tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), dy)))(xs));
    dy.dispose();
  }
  const kernels = logDispatches(false);
  const values = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
  const shapes = out.map((t) => t.shape);
  tf.dispose([...xs, ...out]);
  return { values, shapes, kernels };
}

/** f's outputs and input gradients on cpu (reference) and on webgpu with our kernels on the given path. */
export async function cpuAndWebGpu(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: { values: Float32Array; shape: number[] }[],
  path: Path,
  opts: { grads?: boolean; dySeed?: number } = {},
): Promise<{ cpu: Outputs; gpu: Outputs; errors: string[] }> {
  const grads = opts.grads ?? true;
  await selectBackend({ prefer: 'cpu', fallback: false });
  const cpu = await evaluate(f, inputs, opts.dySeed ?? 7, grads);
  await selectBackend({ prefer: 'webgpu', fallback: false });
  setWebGpuKernels(true);
  forceKernelPaths(path);
  try {
    takeWebGpuErrors();
    const gpu = await evaluate(f, inputs, opts.dySeed ?? 7, grads);
    return { cpu, gpu, errors: takeWebGpuErrors() };
  } finally {
    forceKernelPaths({ f16: null, subgroups: null });
    await selectBackend({ prefer: 'cpu', fallback: false });
  }
}

/** `n` single-channel `r`×`r` images of a blob on a dark background: a dataset with structure, made here. */
export function blobImages(n: number, seed: number, r: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const out = new Float32Array(n * r * r);
  for (let i = 0; i < n; i++) {
    const [cx, cy] = [2 + 4 * rng.uniformArray(1)[0]!, 2 + 4 * rng.uniformArray(1)[0]!];
    for (let y = 0; y < r; y++)
      for (let x = 0; x < r; x++) out[(i * r + y) * r + x] = Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 3) * 2 - 1;
  }
  return tf.tensor4d(out, [n, r, r, 1]);
}
