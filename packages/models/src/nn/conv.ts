import * as tf from '@tensorflow/tfjs';
import { customOp } from './custom-op.ts';
import { matMulTransposeA, matMulTransposeB } from './ops.ts';
import { wasmBatchMatMul, wasmBatchMatMulFits } from './wasm-matmul.ts';
import { sumToChannels, t2d } from './reduce.ts';
import { shiftedRows } from './shifted-rows.ts';
import {
  wasmConv,
  wasmConvFits,
  wasmConvKernelsAvailable,
  wasmFilterGrad,
  wasmFlipSwap,
  wasmWinogradConv,
  wasmWinogradFits,
} from './wasm-conv.ts';
import { webgpuConv2d, webgpuConvFits } from './webgpu/conv.ts';
import { webgpuKernelsActive } from './webgpu/enabled.ts';

/**
 * 2D convolution (NHWC, SAME padding, odd square kernels) with bias, whose gradient needs no
 * Conv2DBackpropFilter kernel: the wasm backend lacks it, and the cpu backend's is a naive loop.
 *  - dx, stride 1: forward conv of dy with the spatially flipped, in/out-swapped filter;
 *    stride 2 (3×3, even sizes): one 2×2 conv giving the four output phases, interleaved (see
 *    stride2InputGrad3x3); other stride-2 shapes: conv2dTranspose; 1×1: dy · Wᵀ as a matMul.
 *  - on wasm, dW and db come from a SIMD kernel of our own that reads x and dy in place, and the convs of
 *    the input gradient run in our own SIMD conv where their shapes fit it (wasm-conv.ts).
 *  - dW elsewhere, stride 1: one matMul of shifted windows of the padded, transposed input with padded dy
 *    (see filterGradStride1); stride 2: forward conv of the transposed, padded input ([Cin, H, W, B]) with
 *    dy ([Ho, Wo, B, Cout]) as the filter and dilation = stride, which yields [Cin, kh, kw, Cout];
 *    1×1 stride 1: xᵀ · dy as a matMul.
 *  - db elsewhere: with the stride-1 dW, a row of ones in the same matMul; otherwise per-sample spatial sums
 *    (global pooling), then ones · sums as a matMul.
 * The spatial flip is a kernel of our own on wasm, elsewhere a matMul with an anti-identity matrix (faster
 * than tf.reverse).
 */

export type ConvGradMode = 'auto' | 'custom' | 'native';

let mode: ConvGradMode = 'auto';
const nativeByBackend = new Map<string, boolean>();

/** 'auto' uses the backend's own gradient where it has a fast Conv2DBackpropFilter, ours elsewhere. */
export function setConvGradMode(m: ConvGradMode): void {
  mode = m;
}

/**
 * Backends whose own Conv2DBackpropFilter is fast. The cpu backend has one, but it is a naive loop: a tiny
 * UNet's backward took 13 s in it against 0.4 s with ours (measured here), so cpu uses ours too. On
 * WebGPU the native kernel measured 1.3× faster than ours (H100, bench/results).
 */
const FAST_NATIVE_FILTER_GRAD = new Set(['tensorflow', 'webgpu', 'webgl']);

function useCustomGrad(): boolean {
  if (mode !== 'auto') return mode === 'custom';
  const backend = tf.getBackend();
  let native = nativeByBackend.get(backend);
  if (native === undefined) {
    native = FAST_NATIVE_FILTER_GRAD.has(backend) && tf.getKernel('Conv2DBackpropFilter', backend) !== undefined;
    nativeByBackend.set(backend, native);
  }
  return !native;
}

/** Same-padding amounts TF uses: total = max((out-1)·s + k - in, 0), the extra pixel at the end. */
export function samePad(inSize: number, k: number, s: number): { out: number; before: number; after: number } {
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + k - inSize, 0);
  const before = Math.floor(total / 2);
  return { out, before, after: total - before };
}

const antiIdentityCache = new Map<number, Float32Array>();
function antiIdentity(n: number): tf.Tensor2D {
  let data = antiIdentityCache.get(n);
  if (!data) {
    data = new Float32Array(n * n);
    for (let i = 0; i < n; i++) data[i * n + (n - 1 - i)] = 1;
    antiIdentityCache.set(n, data);
  }
  return tf.tensor2d(data, [n, n]);
}

/** W [k,k,Cin,Cout] → W' [k,k,Cout,Cin] with W'[i,j] = W[k-1-i, k-1-j]ᵀ. */
function flipSwap(w: tf.Tensor4D): tf.Tensor4D {
  if (wasmConvKernelsAvailable()) return wasmFlipSwap(w);
  const [kh, kw, cin, cout] = w.shape;
  const flipped = tf.matMul(antiIdentity(kh * kw), w.reshape([kh * kw, cin * cout]) as tf.Tensor2D);
  return tf.transpose(flipped.reshape([kh, kw, cin, cout]), [0, 1, 3, 2]) as tf.Tensor4D;
}

function inputGrad(
  dy: tf.Tensor4D,
  w: tf.Tensor4D,
  xShape: [number, number, number, number],
  stride: number,
): tf.Tensor4D {
  const [kh, kw, cin, cout] = w.shape;
  if (kh === 1 && kw === 1 && stride === 1) {
    const [b, h, wd] = xShape;
    const dx = matMulTransposeB(dy.reshape([b * h * wd, cout]) as tf.Tensor2D, w.reshape([cin, cout]) as tf.Tensor2D);
    return dx.reshape(xShape) as tf.Tensor4D;
  }
  if (stride === 1) {
    const p = (kh - 1) / 2;
    if (kh === 3 && wasmWinogradFits(dy.shape, cin)) return wasmWinogradConv(dy, flipSwap(w));
    if (kh === 3 && winogradPaddedFits(dy.shape, cin)) return winogradPadded(dy, flipSwap(w));
    if (wasmConvFits(xShape))
      return wasmConv(dy, flipSwap(w), [
        [p, p],
        [p, p],
      ]);
    return tf.conv2d(dy, flipSwap(w), 1, 'same');
  }
  if (kh === 3 && kw === 3 && xShape[1] % 2 === 0 && xShape[2] % 2 === 0) return stride2InputGrad3x3(dy, w, xShape);
  return tf.conv2dTranspose(dy, w, xShape, stride, 'same');
}

/**
 * Row (or column) tap of a 3×3 stride-2 SAME conv on an even-sized input that output m's neighbourhood
 * a ∈ {0: m−1, 1: m} contributes to input pixel 2m + p; null where none does. With even sizes TF pads
 * 0 before and 1 after, so y[o] = Σ_k x[2o+k]·w[k], hence dx[2m] = dy[m]·w0 + dy[m−1]·w2, dx[2m+1] = dy[m]·w1.
 */
function stride2Tap(p: number, a: number): number | null {
  if (p === 0) return a === 0 ? 2 : 0;
  return a === 1 ? 1 : null;
}

let phaseSelection: Float32Array | null = null;
/** [16, 9] 0/1 matrix: row (a,b,p,q) picks filter tap (stride2Tap(p,a), stride2Tap(q,b)) or nothing. */
function stride2PhaseSelection(): tf.Tensor2D {
  if (!phaseSelection) {
    phaseSelection = new Float32Array(16 * 9);
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 2; b++)
        for (let p = 0; p < 2; p++)
          for (let q = 0; q < 2; q++) {
            const r = stride2Tap(p, a);
            const c = stride2Tap(q, b);
            if (r !== null && c !== null) phaseSelection[(((a * 2 + b) * 2 + p) * 2 + q) * 9 + r * 3 + c] = 1;
          }
  }
  return tf.tensor2d(phaseSelection, [16, 9]);
}

/**
 * dx of a 3×3 stride-2 conv as ONE stride-1 2×2 conv of dy producing the four output phases (p, q) of
 * every 2×2 block of dx as channels, then an interleave (a 4-D transpose). wasm's conv2dTranspose is a
 * plain loop: 22.8 ms against 3.2 ms for this form on [16,16,16,32] → [16,32,32,32] (measured here).
 */
function stride2InputGrad3x3(dy: tf.Tensor4D, w: tf.Tensor4D, xShape: [number, number, number, number]): tf.Tensor4D {
  const [, , cin, cout] = w.shape;
  const [b, h, wd] = xShape;
  const [, ho, wo] = dy.shape;
  // [16 (a,b,p,q), Cin·Cout] → [4 (a,b), (p,q,ci), co] → [2, 2, co, (p,q,ci)]: the 2×2 filter.
  const taps = tf.matMul(stride2PhaseSelection(), w.reshape([9, cin * cout]) as tf.Tensor2D);
  const k2 = tf.transpose(taps.reshape([4, 4 * cin, cout]), [0, 2, 1]).reshape([2, 2, cout, 4 * cin]) as tf.Tensor4D;
  // [B, Ho, Wo, (p, q, ci)]
  const phases = wasmConvFits([b, ho, wo, 4 * cin])
    ? wasmConv(dy, k2, [
        [1, 0],
        [1, 0],
      ])
    : tf.conv2d(dy, k2, 1, [
        [0, 0],
        [1, 0],
        [1, 0],
        [0, 0],
      ]);
  const rows = tf.transpose(phases.reshape([b * ho, wo, 2, 2 * cin]), [0, 2, 1, 3]); // [B·Ho, p, Wo, (q, ci)]
  return rows.reshape([b, h, wd, cin]) as tf.Tensor4D;
}

/** Output channels rounded up to the eights the Winograd kernels take. */
function paddedChannels(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Whether winogradPadded takes a 3×3 stride-1 SAME conv of x to n channels, n not in eights. */
function winogradPaddedFits(xShape: readonly number[], n: number): boolean {
  return n % 8 !== 0 && wasmWinogradFits(xShape, paddedChannels(n));
}

/**
 * A 3×3 stride-1 SAME conv (+ bias) to N output channels, N not in eights, by Winograd with the filter (and bias)
 * zero-padded to the next eight channels, then the first N channels sliced out: the UNet's RGB output conv (32→3)
 * and its RGB stem's input gradient (32→3), which XNNPACK ran at ~4 GMAC/s (7 and 6 ms per small-preset step at
 * batch 32). On [32, 32, 32, 32] → 3 channels this took 4.4 ms against XNNPACK's 6.5 (with bias) and 9.7 (without,
 * the input gradient's case), alternating calls in one process at load 18. Call only where
 * winogradPaddedFits(x.shape, N).
 */
function winogradPadded(x: tf.Tensor4D, w: tf.Tensor4D, bias?: tf.Tensor1D): tf.Tensor4D {
  const n = w.shape[3];
  const extra = paddedChannels(n) - n;
  return tf.tidy(() => {
    const wp = tf.pad(w, [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, extra],
    ]);
    const bp = bias ? tf.pad(bias, [[0, extra]]) : undefined;
    return tf.slice(wasmWinogradConv(x, wp, bp), [0, 0, 0, 0], [-1, -1, -1, n]);
  });
}

/** [B,H,W,C] → [H,W,B,C] (a 3-D [1,0,2] transpose). */
export function spatialFirst(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  return tf.transpose(x.reshape([b, h * w, c]), [1, 0, 2]).reshape([h, w, b, c]) as tf.Tensor4D;
}

/**
 * [B,H,W,C] → [C,H,W,B] in two steps, [B,HW,C] → [HW,B,C] → [C,HW,B]: wasm's one-step [3,1,2,0]
 * transpose measured 2× slower (3.2 vs 1.4 ms for [32,32,32,32]).
 */
export function outerToInner(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  const hwbc = tf.transpose(x.reshape([b, h * w, c]), [1, 0, 2]);
  return tf.transpose(hwbc, [2, 0, 1]).reshape([c, h, w, b]) as tf.Tensor4D;
}

/**
 * dW of a stride-1 k×k SAME conv as ONE matMul [k²·Cin, N] · [N, Cout], whose left operand is k² shifted
 * windows of one buffer (no im2col gather):
 *   dW[i,j] = Σₙ x̃ᵀ[·, n + off(i,j)] · ỹ[n, ·]
 * over the positions n of a padded grid. ỹ is dy [B,H,W,Cout] padded after with p = (k−1)/2 zero rows
 * and columns ([B, H+p, W+p, Cout] flat, rows n); x̃ᵀ is xᵀ [Cin, B, H, W] padded alike, one row per
 * channel. A row's right padding doubles as the next row's left padding (and a sample's bottom as the next
 * one's top), so the shift of tap (i, j) is the constant off = (i−p)·(W+p) + (j−p) along each channel row,
 * and tap (i, j)'s rows are one CONTIGUOUS window of x̃ᵀ's buffer (shiftedRows): reads that
 * run past a row land in padding or, at the very ends, in the zero channel added on either side; where ỹ is
 * zero (padded positions) the product does not matter. The padded grid costs ((H+p)(W+p))/(HW) extra FLOPs:
 * 6% at 32×32, 27% at 8×8. This form was the wasm path before wasm-conv.ts (1.3–1.45× a forward conv there,
 * bench/dw-micro.ts); it stays the path on backends without a fast Conv2DBackpropFilter but a fast matMul.
 */
function filterGradStride1(x: tf.Tensor4D, dy: tf.Tensor4D, k: number): { dw: tf.Tensor4D; db: tf.Tensor1D } {
  const { cin, cout, len, rows, dyPad, offsets } = compactFilterGradLayout(x, dy, k);
  // The row of ones after the windows makes the last output row Σₙ ỹ[n] = the bias gradient (ỹ is zero
  // at padded positions): dW and db in one matMul.
  const taps = shiftedRows(rows, offsets, cin * len, len).reshape([k * k * cin + 1, len]) as tf.Tensor2D;
  const g = tf.matMul(taps, dyPad);
  const [dw, db] = tf.split(g, [k * k * cin, 1]);
  return { dw: dw!.reshape([k, k, cin, cout]) as tf.Tensor4D, db: db!.reshape([cout]) as tf.Tensor1D };
}

/**
 * The compact padded grid of filterGradStride1 (bench/dw-micro.ts times it against other layouts): x̃ᵀ as one
 * flat buffer of (Cin + 2) channel rows of `len` positions (a zero channel either side), ỹ as [len, Cout], and
 * the start of tap (i, j)'s window in x̃ᵀ.
 */
export function compactFilterGradLayout(x: tf.Tensor4D, dy: tf.Tensor4D, k: number) {
  const [b, h, wd, cin] = x.shape;
  const cout = dy.shape[3];
  const p = (k - 1) / 2;
  const hp = h + p;
  const wp = wd + p;
  const len = b * hp * wp;
  const xT = t2d(x.reshape([b * h * wd, cin]) as tf.Tensor2D).reshape([cin, b, h, wd]);
  const rows = tf
    .pad(xT, [
      [1, 1],
      [0, 0],
      [0, p],
      [0, p],
    ])
    .reshape([(cin + 2) * len]) as tf.Tensor1D;
  const dyPad = tf
    .pad(dy, [
      [0, 0],
      [0, p],
      [0, p],
      [0, 0],
    ])
    .reshape([len, cout]) as tf.Tensor2D;
  const offsets: number[] = [];
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) offsets.push(len + (i - p) * wp + (j - p));
  return { cin, cout, len, rows, dyPad, offsets };
}

function filterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, kh: number, kw: number, stride: number): tf.Tensor4D {
  const [b, h, wd, cin] = x.shape;
  const [, ho, wo, cout] = dy.shape;
  if (kh === 1 && kw === 1 && stride === 1) {
    const x2 = x.reshape([b * h * wd, cin]) as tf.Tensor2D;
    return matMulTransposeA(x2, dy.reshape([b * ho * wo, cout]) as tf.Tensor2D).reshape([
      1,
      1,
      cin,
      cout,
    ]) as tf.Tensor4D;
  }
  const ph = samePad(h, kh, stride);
  const pw = samePad(wd, kw, stride);
  // Only rows/cols (out-1)·s + k of the padded input are ever read: crop the rest so the "valid" conv below
  // produces exactly [kh, kw].
  const needH = (ho - 1) * stride + kh;
  const needW = (wo - 1) * stride + kw;
  let xt = outerToInner(x); // [Cin, H, W, B]
  const dyF = spatialFirst(dy); // [Ho, Wo, B, Cout]: dy as a filter
  const afterH = needH - h - ph.before;
  const afterW = needW - wd - pw.before;
  let g: tf.Tensor4D; // [Cin, kh, kw, Cout]
  if (afterH >= 0 && afterW >= 0) {
    // Padding inside the conv (XNNPACK) instead of a tf.pad copy of the transposed input.
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [ph.before, afterH],
      [pw.before, afterW],
      [0, 0],
    ];
    g = tf.conv2d(xt, dyF, 1, pad, 'NHWC', stride);
  } else {
    xt = tf.pad(xt, [
      [0, 0],
      [ph.before, ph.after],
      [pw.before, pw.after],
      [0, 0],
    ]);
    xt = tf.slice(xt, [0, 0, 0, 0], [cin, needH, needW, b]);
    g = tf.conv2d(xt, dyF, 1, 'valid', 'NHWC', stride);
  }
  return tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D;
}

function checkArgs(x: tf.Tensor4D, w: tf.Tensor4D, stride: number): void {
  const [kh, kw, cin] = w.shape;
  if (kh !== kw || kh % 2 !== 1) throw new RangeError(`conv2d: kernel must be square and odd, got ${kh}×${kw}`);
  if (x.shape[3] !== cin) throw new RangeError(`conv2d: input has ${x.shape[3]} channels, filter expects ${cin}`);
  if (stride !== 1 && stride !== 2) throw new RangeError(`conv2d: stride must be 1 or 2, got ${stride}`);
}

/**
 * The forward conv + bias: on wasm, 1×1 convs as a matMul with the bias in our kernel (wasm-matmul.ts: 1.2–1.34×
 * XNNPACK's 1×1 conv), stride-1 3×3 convs by Winograd F(4×4, 3×3) or F(2×2, 3×3) where the shapes
 * fit (even sizes, channels in fours and eights; F(2×2) ran 1.2–1.6× our direct conv, wasm-conv.ts) or fit once
 * the output channels are padded to eights (winogradPadded), else our
 * direct SIMD conv where its shapes fit (which ran at 0.81–0.93× the backend's XNNPACK conv when it took a padded
 * copy of its input); the backend's own conv otherwise.
 */
function forwardConv(x: tf.Tensor4D, w: tf.Tensor4D, bias: tf.Tensor1D, stride: number): tf.Tensor4D {
  const [k, , cin, cout] = w.shape;
  if (k === 1 && stride === 1) {
    const [b, h, wd] = x.shape;
    const pixels = b * h * wd;
    if (wasmBatchMatMulFits([pixels, cin], [cin, cout], false, false)) {
      return tf.tidy(() => {
        const x2 = x.reshape([pixels, cin]) as tf.Tensor2D;
        const y = wasmBatchMatMul(x2, w.reshape([cin, cout]) as tf.Tensor2D, false, false, bias);
        return y.reshape([b, h, wd, cout]) as tf.Tensor4D;
      });
    }
  }
  if (stride === 1 && k === 3 && wasmWinogradFits(x.shape, cout)) return wasmWinogradConv(x, w, bias);
  if (stride === 1 && k === 3 && winogradPaddedFits(x.shape, cout)) return winogradPadded(x, w, bias);
  if (stride === 1 && k === 3 && wasmConvFits([x.shape[0], x.shape[1], x.shape[2], cout])) {
    return wasmConv(
      x,
      w,
      [
        [1, 1],
        [1, 1],
      ],
      bias,
    );
  }
  return tf.fused.conv2d({ x, filter: w, bias, strides: stride, pad: 'same' });
}

/** Conv + bias with our matMul-based gradient (used on backends without Conv2DBackpropFilter). */
export function conv2dCustomGrad(x: tf.Tensor4D, w: tf.Tensor4D, bias: tf.Tensor1D, stride: number): tf.Tensor4D {
  checkArgs(x, w, stride);
  const op = customOp<tf.Tensor4D>(([xi, wi, bi], save) => {
    const x4 = xi as tf.Tensor4D;
    const w4 = wi as tf.Tensor4D;
    save([x4, w4]);
    const value = forwardConv(x4, w4, bi as tf.Tensor1D, stride);
    return {
      value,
      gradFunc: (dy4, saved) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [kh, kw] = ws.shape;
        const dx = inputGrad(dy4, ws, xs.shape, stride);
        if (wasmConvKernelsAvailable()) {
          const { dw, db } = wasmFilterGrad(xs, dy4, kh, stride);
          return [dx, dw, db];
        }
        if (stride === 1 && kh > 1) {
          const { dw, db } = filterGradStride1(xs, dy4, kh);
          return [dx, dw, db];
        }
        return [dx, filterGrad(xs, dy4, kh, kw, stride), sumToChannels(dy4)];
      },
    };
  });
  return op(x, w, bias);
}

/**
 * Conv + bias (+ `residual`, added to the result), SAME padding. Picks the gradient implementation per backend
 * (see setConvGradMode); on webgpu our implicit-GEMM kernels (webgpu/conv.ts), with the residual add fused.
 */
export function conv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  bias: tf.Tensor1D,
  stride = 1,
  residual?: tf.Tensor4D,
): tf.Tensor4D {
  if (webgpuKernelsActive() && webgpuConvFits(w, stride)) {
    checkArgs(x, w, stride);
    return webgpuConv2d(x, w, bias, stride, residual);
  }
  const y = useCustomGrad()
    ? conv2dCustomGrad(x, w, bias, stride)
    : (checkArgs(x, w, stride), tf.fused.conv2d({ x, filter: w, bias, strides: stride, pad: 'same' }));
  return residual ? (tf.add(residual, y) as tf.Tensor4D) : y;
}
