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
