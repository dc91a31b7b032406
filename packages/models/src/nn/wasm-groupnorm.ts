import * as tf from '@tensorflow/tfjs';
import { GROUPNORM_KERNELS_WASM_BASE64 } from './wasm/groupnorm-kernels.wasm.ts';
import { heapModule, type HeapModule } from './wasm/heap-module.ts';

/**
 * GroupNorm's backward pass (with the SiLU that follows it in the UNet's blocks) as one wasm SIMD kernel on
 * the wasm backend's heap (wasm/groupnorm-kernels.wat). Written with TF.js ops it is ~25 ops per layer
 * (per-channel sums, group sums as matMuls, seven full-size elementwise passes); the kernel makes two passes
 * over the activations and its per-group arithmetic is a few hundred scalar operations. On the tiny preset,
 * where a step is short, per-op dispatch was a third of the backward pass.
 */

const KERNEL = 'DappleGroupNormBackward';
const FORWARD_KERNEL = 'DappleGroupNormForward';

interface GroupNormKernelExports {
  groupNormBackward(
    dy: number,
    s: number,
    y: number,
    xc: number,
    r: number,
    gamma: number,
    dx: number,
    dgamma: number,
    dbeta: number,
    scratch: number,
    b: number,
    p: number,
    c: number,
    g: number,
  ): void;
  groupNormForward(
    x: number,
    gamma: number,
    beta: number,
    xc: number,
    r: number,
    s: number,
    y: number,
    scratch: number,
    b: number,
    p: number,
    c: number,
    g: number,
    eps: number,
  ): void;
}

const groupNormKernels: HeapModule<GroupNormKernelExports> = heapModule<GroupNormKernelExports>(
  GROUPNORM_KERNELS_WASM_BASE64,
  {
    [KERNEL]: (args) => {
      const { dy, xc, r, gamma, s, y } = args.inputs as Record<string, tf.TensorInfo | undefined>;
      const { groups } = args.attrs as unknown as { groups: number };
      const { exports, backend, ptr, zeros } = groupNormKernels.context(args);
      const [b, h, w, c] = dy!.shape as [number, number, number, number];
      const dx = backend.makeOutput([b, h, w, c], 'float32');
      const dgamma = zeros([c]);
      const dbeta = zeros([c]);
      const scratch = backend.makeOutput([5 * c], 'float32');
      exports.groupNormBackward(
        ptr(dy!),
        s ? ptr(s) : 0,
        y ? ptr(y) : 0,
        ptr(xc!),
        ptr(r!),
        ptr(gamma!),
        ptr(dx),
        ptr(dgamma),
        ptr(dbeta),
        ptr(scratch),
        b,
        h * w,
        c,
        groups,
      );
      backend.disposeData(scratch.dataId);
      return [dx, dgamma, dbeta];
    },
    [FORWARD_KERNEL]: (args) => {
      const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
      const { groups, eps, silu } = args.attrs as unknown as { groups: number; eps: number; silu: boolean };
      const { exports, backend, ptr } = groupNormKernels.context(args);
      const [b, h, w, c] = x!.shape as [number, number, number, number];
      const y = backend.makeOutput([b, h, w, c], 'float32');
      const xc = backend.makeOutput([b, h, w, c], 'float32');
      const r = backend.makeOutput([b, 1, 1, c], 'float32');
      const s = silu ? backend.makeOutput([b, h, w, c], 'float32') : null;
      const scratch = backend.makeOutput([2 * c], 'float32');
      exports.groupNormForward(
        ptr(x!),
        ptr(gamma!),
        ptr(beta!),
        ptr(xc),
        ptr(r),
        s ? ptr(s) : 0,
        ptr(y),
        ptr(scratch),
        b,
        h * w,
        c,
        groups,
        eps,
      );
      backend.disposeData(scratch.dataId);
      return s ? [y, xc, r, s] : [y, xc, r];
    },
  },
);

/** Whether wasmGroupNormBackward can run for `channels` channels here (wasm backend, channels in fours). */
export function wasmGroupNormAvailable(channels: number): boolean {
  return channels % 4 === 0 && groupNormKernels.available();
}

/**
 * dx, dγ, dβ of z = GroupNorm(x)·γ + β, or of silu(z) when `silu` holds the forward pass's σ(z) and silu(z).
 * xc = x − μ (per sample and group) and r = 1/σ broadcast per channel ([B,1,1,C]) are what the forward saved.
 */
export function wasmGroupNormBackward(
  dy: tf.Tensor4D,
  xc: tf.Tensor4D,
  r: tf.Tensor4D,
  gamma: tf.Tensor1D,
  groups: number,
  silu?: { s: tf.Tensor4D; y: tf.Tensor4D },
): [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D] {
  const inputs: tf.NamedTensorMap = silu ? { dy, xc, r, gamma, s: silu.s, y: silu.y } : { dy, xc, r, gamma };
  return tf.engine().runKernel<[tf.Tensor4D, tf.Tensor1D, tf.Tensor1D]>(KERNEL, inputs, { groups });
}

let forward = true;

/**
 * Whether GroupNorm's forward pass (with its SiLU) runs as one wasm kernel where wasmGroupNormAvailable (the
 * default) or as TF.js ops (for comparisons and tests).
 */
export function setWasmGroupNormForward(on: boolean): void {
  forward = on;
}

/** Whether wasmGroupNormForward runs here for `channels` channels (and is switched on). */
export function wasmGroupNormForwardAvailable(channels: number): boolean {
  return forward && wasmGroupNormAvailable(channels);
}

/**
 * z = GroupNorm(x)·γ + β, or y = silu(z) when `silu`, in one kernel of three passes over x (channel sums, centred
 * squares, output) where TF.js ops take ten full-size passes and ~15 dispatches; also returns what the backward
 * kernel reads: xc = x − μ, r = 1/σ per sample and channel [B,1,1,C], and σ(z) when `silu`.
 */
export function wasmGroupNormForward(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups: number,
  eps: number,
  silu: boolean,
): { y: tf.Tensor4D; xc: tf.Tensor4D; r: tf.Tensor4D; s?: tf.Tensor4D } {
  const attrs = { groups, eps, silu } as unknown as tf.NamedAttrMap;
  const [y, xc, r, s] = tf.engine().runKernel<tf.Tensor4D[]>(FORWARD_KERNEL, { x, gamma, beta }, attrs);
  return s ? { y: y!, xc: xc!, r: r!, s } : { y: y!, xc: xc!, r: r! };
}
