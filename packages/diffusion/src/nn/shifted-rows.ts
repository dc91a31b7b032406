import * as tf from '@tensorflow/tfjs';

/**
 * shiftedRows(x, offsets, length)[t] = x[offsets[t] : offsets[t] + length]: several overlapping windows
 * of a flat tensor stacked as rows, the left operand of the filter gradient's one matMul (conv.ts).
 *
 * On wasm it is one kernel of our own doing a heap memmove per window; elsewhere (cpu, the
 * reference) a slice per window and a concat. The kernel saves the op overhead of k² slices and the concat's
 * second copy: each window is copied exactly once.
 */

const KERNEL = 'DappleShiftedRows';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

interface Attrs {
  offsets: number[];
  length: number;
}

function wasmShiftedRows(args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  const x = args.inputs['x'] as tf.TensorInfo;
  const { offsets, length } = args.attrs as unknown as Attrs;
  const backend = args.backend as WasmBackendLike;
  const out = backend.makeOutput([offsets.length, length], x.dtype);
  // Views taken after makeOutput: an allocation can grow (and so detach) the heap.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  offsets.forEach((o, t) => dst.set(src.subarray(o, o + length), t * length));
  return out;
}

let registered = false;

export function shiftedRows(x: tf.Tensor1D, offsets: number[], length: number): tf.Tensor2D {
  for (const o of offsets) {
    if (!Number.isInteger(o) || o < 0 || o + length > x.size) {
      throw new RangeError(`shiftedRows: window [${o}, ${o + length}) is outside the input of ${x.size} values`);
    }
  }
  if (tf.getBackend() === 'wasm' && x.dtype !== 'string') {
    if (!registered) {
      tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: wasmShiftedRows as unknown as tf.KernelFunc });
      registered = true;
    }
    const attrs = { offsets, length } as unknown as tf.NamedAttrMap;
    return tf.engine().runKernel(KERNEL, { x }, attrs) as tf.Tensor2D;
  }
  return tf.concat(offsets.map((o) => tf.slice(x, [o], [length]))).reshape([offsets.length, length]) as tf.Tensor2D;
}
