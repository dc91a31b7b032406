import * as tf from '@tensorflow/tfjs';
import { COPY_KERNELS_WASM_BASE64 } from './wasm/copy-kernels.wasm.ts';
import { heapModule } from './wasm/heap-module.ts';

/**
 * Replacements for wasm-backend kernels whose TF.js 4.22 implementation is needlessly slow for training.
 *
 * Slice (and SplitV, which calls it) reads its input through `backend.readSync`, which on wasm copies the
 * WHOLE input out of the heap on every call: splitting a flat parameter bucket of n values into v
 * variables costs O(n·v) (48 ms per step for the 0.16M-parameter tiny model, 270 ms for small), and every
 * concat gradient copies the full activation once per part. These versions read the heap in place, so a
 * slice costs what it copies. Same semantics (NHWC-agnostic, any rank, float32/int32/bool); strings go to
 * the original kernel.
 *
 * Concat along an inner axis (the UNet's skip connections join channels) copies one short row per pixel;
 * the rows (of Concat, Slice and SplitV) are copied by a wasm SIMD kernel of ours (wasm/copy-kernels.wat),
 * ~5× faster than the JS loops that remain where it cannot run.
 *
 * Identity (what the engine runs to keep a tensor a custom gradient saves) copies its input on wasm; tensor
 * data is immutable, so it shares the buffer and counts a reference instead, as Reshape does and as the cpu
 * backend's Identity does.
 */

interface WasmBackendLike {
  incRef(dataId: tf.DataId): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

let installed = false;

type Heap = Float32Array | Int32Array | Uint8Array;

/** Rows up to this length are copied element by element: cheaper than a subarray object per row. */
const ROW_LOOP_MAX = 128;

interface CopyKernelExports {
  /** Byte addresses and lengths. */
  copyRows(src: number, srcStride: number, dst: number, dstStride: number, run: number, count: number): void;
}
const copyKernels = heapModule<CopyKernelExports>(COPY_KERNELS_WASM_BASE64, {});
let wasmRowCopies = true;

/** Switches the wasm row copies off (false: the JS loops), for benchmarks that compare the two. */
export function setWasmRowCopies(on: boolean): void {
  wasmRowCopies = on;
}

/** The row-copy kernel on this kernel call's heap, or null where it cannot run. */
function rowCopier(args: KernelArgs): CopyKernelExports | null {
  if (!wasmRowCopies || !copyKernels.available()) return null;
  return copyKernels.context(args).exports;
}

/**
 * Copies `count` rows of `run` elements from src (row starts srcStart + r·srcStride) to dst likewise; src and
 * dst are views of the wasm heap, so `wasm` (when given) copies them by byte address.
 */
function copyRows(
  wasm: CopyKernelExports | null,
  src: Heap,
  srcStart: number,
  srcStride: number,
  dst: Heap,
  dstStart: number,
  dstStride: number,
  run: number,
  count: number,
): void {
  if (wasm && count > 1) {
    const e = src.BYTES_PER_ELEMENT;
    wasm.copyRows(
      src.byteOffset + srcStart * e,
      srcStride * e,
      dst.byteOffset + dstStart * e,
      dstStride * e,
      run * e,
      count,
    );
    return;
  }
  if (run > ROW_LOOP_MAX) {
    for (let r = 0; r < count; r++) {
      const s0 = srcStart + r * srcStride;
      dst.set(src.subarray(s0, s0 + run), dstStart + r * dstStride);
    }
    return;
  }
  for (let r = 0; r < count; r++) {
    const s0 = srcStart + r * srcStride;
    const d0 = dstStart + r * dstStride;
    for (let k = 0; k < run; k++) dst[d0 + k] = src[s0 + k]!;
  }
}

/** Copies the box [begin, begin+size) of x (shape) into out, one contiguous run at a time. */
function copyBox(
  wasm: CopyKernelExports | null,
  x: Heap,
  shape: number[],
  begin: number[],
  size: number[],
  out: Heap,
): void {
  const rank = shape.length;
  if (rank === 0) {
    out.set(x.subarray(0, 1));
    return;
  }
  const strides = new Array<number>(rank);
  let acc = 1;
  for (let j = rank - 1; j >= 0; j--) {
    strides[j] = acc;
    acc *= shape[j]!;
  }
  // Axes after k are taken whole, so each run along axis k (and everything inside it) is contiguous.
  let k = rank - 1;
  while (k > 0 && size[k] === shape[k] && begin[k] === 0) k--;
  const run = size[k]! * strides[k]!;
  let base = 0;
  for (let j = 0; j <= k; j++) base += begin[j]! * strides[j]!;
  if (k === 0) {
    out.set(x.subarray(base, base + run));
    return;
  }
  // Rows along axis k−1 are evenly strided: copy them in one copyRows call per outer index.
  const rows = size[k - 1]!;
  const counters = new Array<number>(Math.max(k - 1, 0)).fill(0);
  let outOffset = 0;
  const total = out.length;
  while (outOffset < total) {
    let src = base;
    for (let j = 0; j < k - 1; j++) src += counters[j]! * strides[j]!;
    copyRows(wasm, x, src, strides[k - 1]!, out, outOffset, run, run, rows);
    outOffset += run * rows;
    for (let j = k - 2; j >= 0; j--) {
      counters[j]! += 1;
      if (counters[j]! < size[j]!) break;
      counters[j] = 0;
    }
  }
}

function makeSlice(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (x.dtype === 'string') return original(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const backend = args.backend as WasmBackendLike;
    const attrs = args.attrs as { begin: number | number[]; size?: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size) as [
      number[],
      number[],
    ];
    const out = backend.makeOutput(size, x.dtype);
    if (tf.util.sizeFromShape(size) === 0) return out;
    // Views taken after makeOutput: an allocation can grow (and so detach) the heap.
    const wasm = rowCopier(args);
    copyBox(wasm, backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out));
    return out;
  };
}

function makeSplitV(slice: (args: KernelArgs) => tf.TensorInfo) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[ax] = s;
      const part = slice({ inputs: { x }, attrs: { begin: [...begin], size }, backend: args.backend });
      begin[ax]! += s;
      return part;
    });
  };
}

function makeConcat(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    if (inputs[0]!.dtype === 'string') return original(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const backend = args.backend as WasmBackendLike;
    const axis = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, inputs[0]!.shape)[0]!;
    const outShape = tf.backend_util.computeOutShape(
      inputs.map((t) => t.shape),
      axis,
    );
    const out = backend.makeOutput(outShape, inputs[0]!.dtype);
    const parts = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
    if (parts.length === 0) return out;
    const outer = tf.util.sizeFromShape(outShape.slice(0, axis));
    const outRow = tf.util.sizeFromShape(outShape.slice(axis));
    const outVals = backend.typedArrayFromHeap(out);
    const wasm = rowCopier(args);
    let offset = 0;
    for (const t of parts) {
      const row = tf.util.sizeFromShape(t.shape.slice(axis));
      copyRows(wasm, backend.typedArrayFromHeap(t), 0, row, outVals, offset, outRow, row, outer);
      offset += row;
    }
    return out;
  };
}

function makeIdentity(original: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (x.dtype === 'string') return original(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    (args.backend as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

/** Puts `kernelFunc` in place of the wasm backend's kernel `name` (registered or not). */
function replaceWasmKernel(name: string, kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
}

/** Wraps the wasm backend's kernel `name`, when it has one, in `make`'s faster version (given the original). */
function wrapWasmKernel(name: string, make: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const original = tf.getKernel(name, 'wasm');
  if (original) replaceWasmKernel(name, make(original.kernelFunc));
}

/** Installs the faster Slice/SplitV/Concat/Identity kernels for the wasm backend once it is active (no-op elsewhere and when repeated). */
export function installWasmKernelFixes(): void {
  if (installed || tf.getBackend() !== 'wasm') return;
  const slice = tf.getKernel('Slice', 'wasm');
  if (!slice) return;
  const fastSlice = makeSlice(slice.kernelFunc);
  replaceWasmKernel('Slice', fastSlice);
  replaceWasmKernel('SplitV', makeSplitV(fastSlice));
  wrapWasmKernel('Concat', makeConcat);
  wrapWasmKernel('Identity', makeIdentity);
  installed = true;
}
