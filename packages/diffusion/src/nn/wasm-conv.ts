import * as tf from '@tensorflow/tfjs';
import { CONV_KERNELS_WASM_BASE64 } from './wasm/conv-kernels.wasm.ts';

/**
 * Convolution kernels of our own for the wasm backend: wasm SIMD functions (wasm/conv-kernels.wat) that run
 * on the backend's heap, registered as TF.js kernels.
 *
 * - Filter and bias gradients. tfjs-backend-wasm has no Conv2DBackpropFilter, and every way of getting dW
 *   out of its XNNPACK kernels costs copies around the GEMM: a matMul of k² shifted windows of the transposed
 *   input with dy (conv.ts, the path off wasm) writes the k²-fold window matrix, transposes and pads both
 *   operands, and has XNNPACK pack all of dy as GEMM weights on every call; that made dW 1.4–1.8× a forward
 *   conv of the same shape. The kernel reads x and dy where they are and skips the zero padding: 0.75–0.9×
 *   a forward conv (bench/dw-micro.ts).
 * - A "valid" conv of a padded input, used for the input gradient (a conv of dy with the flipped filter).
 *   It measured 0.81–0.93× the backend's XNNPACK conv on the UNet's shapes, padding included.
 *
 * Both need channel counts in multiples of 4 (filter gradient, input side) or 8 (output side), and the conv
 * output widths in multiples of 4: the filter gradient zero-pads other channel counts (the RGB stem and
 * output convs); the conv is used only where its shapes fit (wasmConvFits).
 */

const FILTER_GRAD = 'DappleConvFilterGrad';
const VALID_CONV = 'DappleConvValid';

interface ConvKernelExports {
  filterGrad(x: number, dy: number, out: number, b: number, h: number, w: number, cin: number, ho: number, wo: number, cout: number, k: number, s: number, padTop: number, padLeft: number): void;
  colSum(dy: number, out: number, rows: number, cout: number): void;
  conv(xp: number, f: number, bias: number, y: number, b: number, ho: number, wo: number, c: number, n: number, k: number): void;
}

interface WasmBackendLike {
  wasm: { asm: { memory: WebAssembly.Memory } };
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

/** One instance per backend heap; null where this runtime cannot instantiate it (no wasm SIMD, shared memory). */
const instances = new WeakMap<WebAssembly.Memory, ConvKernelExports | null>();

function instanceFor(memory: WebAssembly.Memory): ConvKernelExports | null {
  let inst = instances.get(memory);
  if (inst === undefined) {
    try {
      const bytes = Uint8Array.from(atob(CONV_KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0));
      inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as ConvKernelExports;
    } catch {
      inst = null;
    }
    instances.set(memory, inst);
  }
  return inst;
}

function context(args: KernelArgs) {
  const backend = args.backend as WasmBackendLike;
  const memory = backend.wasm.asm.memory;
  return {
    backend,
    inst: instanceFor(memory)!,
    offset: (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset,
    /** A zeroed float view; take it after every allocation: an allocation can grow (and so replace) the heap. */
    zero: (t: tf.TensorInfo, n: number) => new Float32Array(memory.buffer, backend.dataIdMap.get(t.dataId).memoryOffset, n).fill(0),
  };
}

function filterGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const x = args.inputs['x'] as tf.TensorInfo;
  const dy = args.inputs['dy'] as tf.TensorInfo;
  const { k, stride, padTop, padLeft } = args.attrs as unknown as { k: number; stride: number; padTop: number; padLeft: number };
  const { backend, inst, offset, zero } = context(args);
  const [b, h, w, cin] = x.shape as [number, number, number, number];
  const [, ho, wo, cout] = dy.shape as [number, number, number, number];
  const dw = backend.makeOutput([k, k, cin, cout], 'float32');
  const db = backend.makeOutput([cout], 'float32');
  zero(dw, k * k * cin * cout);
  zero(db, cout);
  inst.filterGrad(offset(x), offset(dy), offset(dw), b, h, w, cin, ho, wo, cout, k, stride, padTop, padLeft);
  inst.colSum(offset(dy), offset(db), b * ho * wo, cout);
  return [dw, db];
}

function validConvKernel(args: KernelArgs): tf.TensorInfo {
  const xp = args.inputs['xp'] as tf.TensorInfo;
  const f = args.inputs['f'] as tf.TensorInfo;
  const bias = args.inputs['bias'] as tf.TensorInfo | undefined;
  const { backend, inst, offset } = context(args);
  const [b, hp, wp, c] = xp.shape as [number, number, number, number];
  const [k, , , n] = f.shape as [number, number, number, number];
  const y = backend.makeOutput([b, hp - k + 1, wp - k + 1, n], 'float32');
  inst.conv(offset(xp), offset(f), bias ? offset(bias) : 0, offset(y), b, hp - k + 1, wp - k + 1, c, n, k);
  return y;
}

let registered = false;

/** Whether the wasm conv kernels can run here: the wasm backend is active and this runtime instantiates them. */
export function wasmConvKernelsAvailable(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  const backend = tf.backend() as unknown as Partial<WasmBackendLike>;
  const memory = backend.wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || instanceFor(memory) === null) return false;
  if (!registered) {
    tf.registerKernel({ kernelName: FILTER_GRAD, backendName: 'wasm', kernelFunc: filterGradKernel as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: VALID_CONV, backendName: 'wasm', kernelFunc: validConvKernel as unknown as tf.KernelFunc });
    registered = true;
  }
  return true;
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/**
 * dW [k,k,Cin,Cout] and db [Cout] of a SAME conv with odd square kernel k and the given stride, from its
 * input x [B,H,W,Cin] and output gradient dy [B,Ho,Wo,Cout]. Call only where wasmConvKernelsAvailable().
 */
export function wasmFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, stride: number): { dw: tf.Tensor4D; db: tf.Tensor1D } {
  const [, h, w, cin] = x.shape;
  const cout = dy.shape[3];
  // TF's SAME padding puts the odd pixel after: only the leading pad matters to the kernel.
  const padTop = Math.floor(Math.max((dy.shape[1] - 1) * stride + k - h, 0) / 2);
  const padLeft = Math.floor(Math.max((dy.shape[2] - 1) * stride + k - w, 0) / 2);
  return tf.tidy(() => {
    const cinP = roundUp(cin, 4);
    const coutP = roundUp(cout, 8);
    const xP = cinP === cin ? x : tf.pad(x, [[0, 0], [0, 0], [0, 0], [0, cinP - cin]]);
    const dyP = coutP === cout ? dy : tf.pad(dy, [[0, 0], [0, 0], [0, 0], [0, coutP - cout]]);
    const attrs = { k, stride, padTop, padLeft } as unknown as tf.NamedAttrMap;
    let [dw, db] = tf.engine().runKernel(FILTER_GRAD, { x: xP, dy: dyP }, attrs) as [tf.Tensor4D, tf.Tensor1D];
    if (cinP !== cin || coutP !== cout) {
      dw = tf.slice(dw, [0, 0, 0, 0], [k, k, cin, cout]);
      db = tf.slice(db, [0], [cout]);
    }
    return { dw, db };
  });
}

/** Whether wasmConv can compute a conv with this output [B, Ho, Wo, N]. */
export function wasmConvFits(outShape: readonly number[]): boolean {
  return outShape[2]! > 0 && outShape[2]! % 4 === 0 && outShape[3]! % 8 === 0;
}

/**
 * y = conv(x, f) + bias, stride 1, with x zero-padded by `pad` ([before, after] per spatial axis): SAME for an
 * odd k is pad = [[p, p], [p, p]], p = (k−1)/2. Needs wasmConvFits(y.shape) and wasmConvKernelsAvailable().
 */
export function wasmConv(x: tf.Tensor4D, f: tf.Tensor4D, pad: [[number, number], [number, number]], bias?: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => {
    const xp = tf.pad(x, [[0, 0], pad[0], pad[1], [0, 0]]);
    const inputs: tf.NamedTensorMap = bias ? { xp, f, bias } : { xp, f };
    return tf.engine().runKernel(VALID_CONV, inputs) as tf.Tensor4D;
  });
}
