import * as tf from '@tensorflow/tfjs';
import { wasmKernels, type HeapKernelArgs, type WasmBackendLike } from '../nn/wasm/heap-module.ts';
import { webgpuKernelsActive } from '../nn/webgpu/enabled.ts';
import { webgpuOptimAvailable } from '../nn/webgpu/optim.ts';

/**
 * concatFlat / splitFlat: many tensors of any shapes into one 1-D tensor and back, the packing of the flat
 * optimizer and EMA buckets (flat.ts). As TF.js ops each is a reshape per tensor plus one concat or split:
 * ~200 variables made that ~400 ops per step on the tiny model, a tenth of its training step in op dispatch
 * alone. On wasm each is one kernel of ours that copies on the heap, on webgpu buffer-to-buffer copies
 * (nn/webgpu/optim.ts); elsewhere the ops.
 */

const CONCAT = 'DappleConcatFlat';
const SPLIT = 'DappleSplitFlat';

function concatKernel(args: HeapKernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike & { typedArrayFromHeap(t: tf.TensorInfo): Float32Array };
  const parts = Object.keys(args.inputs)
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => args.inputs[k] as tf.TensorInfo);
  const total = parts.reduce((n, t) => n + tf.util.sizeFromShape(t.shape), 0);
  const out = backend.makeOutput([total], 'float32');
  // Views taken after the allocation: it can grow (and so replace) the heap's buffer.
  const dst = backend.typedArrayFromHeap(out);
  let offset = 0;
  for (const t of parts) {
    const src = backend.typedArrayFromHeap(t);
    dst.set(src, offset);
    offset += src.length;
  }
  return out;
}

function splitKernel(args: HeapKernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendLike & { typedArrayFromHeap(t: tf.TensorInfo): Float32Array };
  const flat = args.inputs['flat'] as tf.TensorInfo;
  const { shapes } = args.attrs as unknown as { shapes: number[][] };
  const outs = shapes.map((shape) => backend.makeOutput(shape, 'float32'));
  const src = backend.typedArrayFromHeap(flat);
  let offset = 0;
  for (const out of outs) {
    const dst = backend.typedArrayFromHeap(out);
    dst.set(src.subarray(offset, offset + dst.length));
    offset += dst.length;
  }
  return outs;
}

const onWasmBackend = wasmKernels({ [CONCAT]: concatKernel, [SPLIT]: splitKernel });

function onWasm(tensors: tf.Tensor[]): boolean {
  return (
    tensors.every((t) => t.dtype === 'float32') &&
    (onWasmBackend() || (webgpuKernelsActive() && webgpuOptimAvailable()))
  );
}

/** The values of `tensors`, each flattened, one after the other: a new 1-D tensor. */
export function concatFlat(tensors: tf.Tensor[]): tf.Tensor1D {
  if (tensors.length === 0) throw new RangeError('concatFlat needs at least one tensor');
  if (onWasm(tensors)) {
    const inputs: tf.NamedTensorMap = {};
    tensors.forEach((t, i) => (inputs[String(i)] = t));
    return tf.engine().runKernel<tf.Tensor1D>(CONCAT, inputs);
  }
  return tf.tidy(() =>
    tensors.length === 1 ? tensors[0]!.reshape([-1]).clone() : tf.concat(tensors.map((t) => t.reshape([-1]))),
  ) as tf.Tensor1D;
}

/** `flat` cut into consecutive pieces of the given shapes (their sizes must add up to flat's): new tensors. */
export function splitFlat(flat: tf.Tensor1D, shapes: number[][]): tf.Tensor[] {
  const sizes = shapes.map((s) => tf.util.sizeFromShape(s));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total !== flat.size) throw new RangeError(`splitFlat: the shapes hold ${total} values, the tensor ${flat.size}`);
  if (onWasm([flat])) return tf.engine().runKernel<tf.Tensor[]>(SPLIT, { flat }, { shapes });
  return tf.tidy(() => {
    const parts = shapes.length === 1 ? [flat.clone()] : tf.split(flat, sizes);
    return parts.map((p, k) => p.reshape(shapes[k]!));
  });
}
