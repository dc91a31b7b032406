import * as tf from '@tensorflow/tfjs';

/**
 * shiftedRows(x, offsets, length) = x[offsets[0] : offsets[0] + length] ++ x[offsets[1] : …] ++ …: several
 * overlapping windows of a flat tensor one after the other (flat), the left operand of the filter gradient's
 * one matMul (conv.ts), followed by `ones` ones (there a row of ones: the bias gradient).
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
  ones: number;
}

function wasmShiftedRows(args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown }): tf.TensorInfo {
  const x = args.inputs['x'] as tf.TensorInfo;
  const { offsets, length, ones } = args.attrs as unknown as Attrs;
  const backend = args.backend as WasmBackendLike;
  const size = offsets.length * length + ones;
  const out = backend.makeOutput([size], x.dtype);
  // Views taken after makeOutput: an allocation can grow (and so detach) the heap.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  offsets.forEach((o, t) => dst.set(src.subarray(o, o + length), t * length));
  dst.fill(1, offsets.length * length, size);
  return out;
}

let registered = false;

export function shiftedRows(x: tf.Tensor1D, offsets: number[], length: number, ones = 0): tf.Tensor1D {
  for (const o of offsets) {
    if (!Number.isInteger(o) || o < 0 || o + length > x.size) {
      throw new RangeError(`shiftedRows: window [${o}, ${o + length}) is outside the input of ${x.size} values`);
    }
  }
  if (tf.getBackend() === 'wasm' && x.dtype === 'float32') {
    if (!registered) {
      tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: wasmShiftedRows as unknown as tf.KernelFunc });
      registered = true;
    }
    const attrs = { offsets, length, ones } as unknown as tf.NamedAttrMap;
    return tf.engine().runKernel(KERNEL, { x }, attrs) as tf.Tensor1D;
  }
  const parts = offsets.map((o) => tf.slice(x, [o], [length]));
  if (ones > 0) parts.push(tf.ones([ones], x.dtype) as tf.Tensor1D);
  return tf.concat(parts);
}
