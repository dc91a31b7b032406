import * as tf from '@tensorflow/tfjs';
import { heapModule, type HeapModule } from './wasm/heap-module.ts';
import { SUM_KERNELS_WASM_BASE64 } from './wasm/sum-kernels.wasm.ts';

/**
 * Channel sums as one wasm SIMD kernel call each (wasm/sum-kernels.wat), for the gradients of reduce.ts' users:
 * a bias gradient was an average pool, a cast (avgPool always casts its result, a copy on wasm), a scale, a
 * product with ones and reshapes; a per-sample spatial sum four of those ops. At ~900 ops per `tiny` training
 * step, most of them small, each op's dispatch is a fixed cost every data-parallel worker pays per step.
 * Not differentiable: for use inside gradient functions (as reduce.ts' functions are).
 */

const SPATIAL = 'DappleSumSpatial';
const CHANNELS = 'DappleSumToChannels';

interface SumKernelExports {
  sumRows: (x: number, out: number, outer: number, rows: number, c: number) => void;
}

const sumKernels: HeapModule<SumKernelExports> = heapModule<SumKernelExports>(SUM_KERNELS_WASM_BASE64, {
  [SPATIAL]: (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const { exports, backend, ptr } = sumKernels.context(args);
    const out = backend.makeOutput([b, c], 'float32');
    exports.sumRows(ptr(x), ptr(out), b, h * w, c);
    return out;
  },
  [CHANNELS]: (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const c = x.shape[x.shape.length - 1]!;
    const { exports, backend, ptr } = sumKernels.context(args);
    const out = backend.makeOutput([c], 'float32');
    if (x.shape.length === 4 && x.shape[0]! > 1) {
      // Per sample first, then over the samples: shorter float32 sums than one over every position.
      const [b, h, w] = x.shape as [number, number, number, number];
      const perSample = backend.makeOutput([b, c], 'float32');
      exports.sumRows(ptr(x), ptr(perSample), b, h * w, c);
      exports.sumRows(ptr(perSample), ptr(out), 1, b, c);
      backend.disposeData(perSample.dataId);
    } else {
      exports.sumRows(ptr(x), ptr(out), 1, tf.util.sizeFromShape(x.shape) / c, c);
    }
    return out;
  },
});

let enabled = true;

/** Switches the kernels off (false: reduce.ts' TF.js ops again), for benchmarks that compare the two. */
export function setWasmSums(on: boolean): void {
  enabled = on;
}

/** Whether the kernels run here: a float32 input on the wasm backend. */
export function wasmSumFits(x: tf.Tensor): boolean {
  return enabled && x.dtype === 'float32' && x.rank >= 1 && sumKernels.available();
}

/** x [B,H,W,C] → [B,C], Σ over H and W. Call only where wasmSumFits holds. */
export function wasmSumSpatial(x: tf.Tensor4D): tf.Tensor2D {
  return tf.engine().runKernel<tf.Tensor2D>(SPATIAL, { x }, {});
}

/** x [..., C] → [C], Σ over every leading axis. Call only where wasmSumFits holds. */
export function wasmSumToChannels(x: tf.Tensor): tf.Tensor1D {
  return tf.engine().runKernel<tf.Tensor1D>(CHANNELS, { x }, {});
}
