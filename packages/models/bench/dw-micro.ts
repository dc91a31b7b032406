/**
 * Micro-benchmark of ways to compute a stride-1 3×3 conv's filter gradient on wasm, in CPU ms per call
 * (median of 9), next to the forward conv of the same shape (`fwd`). Prints one JSON line per shape.
 *  - cur: the conv form used before (transposed input as the batch, dy as a [Ho,Wo,B,Cout] filter). The
 *    backend 2-D-transposes and XNNPACK re-packs that whole filter per call (PARTS=1 times the pieces).
 *  - c<n>: cur over batch chunks of n (K-blocking: did not help).  perTap: 9 slices + 9 matMuls.
 *  - flat / flat9: shifted windows over a grid padded on both sides, one matMul or nine.
 *  - comp9 / comp1: windows over the compact grid (shared pad column and row), nine matMuls or a concat + one.
 *  - compK: compact grid, windows by shiftedRows, one matMul (conv.ts off wasm).
 *  - wasmK: our wasm SIMD kernel reading x and dy in place, with db (wasm-conv.ts: what conv.ts does on wasm).
 * Usage: tsx bench/dw-micro.ts; env SHAPES=BxHxWxCinxCout,… ONLY=cur,compK PARTS=1.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { installWasmKernelFixes } from '../src/nn/wasm-kernels.ts';
import { compactFilterGradLayout, outerToInner, samePad, spatialFirst } from '../src/nn/conv.ts';
import { shiftedRows } from '../src/nn/shifted-rows.ts';
import { wasmFilterGrad, wasmConvKernelsAvailable } from '../src/nn/wasm-conv.ts';

await selectBackend({ prefer: 'wasm', fallback: false });
installWasmKernelFixes();
if (!wasmConvKernelsAvailable()) throw new Error('the wasm filter-gradient kernel cannot run here');

function rawGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number): tf.Tensor4D {
  const [, h, wd] = x.shape;
  const ph = samePad(h, k, 1),
    pw = samePad(wd, k, 1);
  const xt = outerToInner(x);
  const dyF = spatialFirst(dy);
  return tf.conv2d(xt, dyF, 1, [
    [0, 0],
    [ph.before, ph.after],
    [pw.before, pw.after],
    [0, 0],
  ]);
}
function cur(x: tf.Tensor4D, dy: tf.Tensor4D, k: number) {
  return tf.transpose(rawGrad(x, dy, k), [1, 2, 0, 3]);
}
function chunked(bc: number) {
  return (x: tf.Tensor4D, dy: tf.Tensor4D, k: number) => {
    const b = x.shape[0];
    const parts: tf.Tensor4D[] = [];
    for (let b0 = 0; b0 < b; b0 += bc) {
      const xs = tf.slice(x, [b0, 0, 0, 0], [bc, -1, -1, -1]) as tf.Tensor4D;
      const ds = tf.slice(dy, [b0, 0, 0, 0], [bc, -1, -1, -1]) as tf.Tensor4D;
      parts.push(rawGrad(xs, ds, k));
    }
    return tf.transpose(tf.addN(parts), [1, 2, 0, 3]);
  };
}
// im2col-free matMul per tap: dW[kh,kw] = shift(x)^T · dy, K = B·H·W split into chunks of rows
function perTap(x: tf.Tensor4D, dy: tf.Tensor4D, k: number) {
  const [b, h, wd, cin] = x.shape;
  const cout = dy.shape[3];
  const p = (k - 1) / 2;
  const xp = tf.pad(x, [
    [0, 0],
    [p, p],
    [p, p],
    [0, 0],
  ]);
  const dy2 = dy.reshape([b * h * wd, cout]) as tf.Tensor2D;
  const taps: tf.Tensor[] = [];
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      const xs = tf.slice(xp, [0, i, j, 0], [b, h, wd, cin]).reshape([b * h * wd, cin]) as tf.Tensor2D;
      const n = b * h * wd;
      const xT = tf.transpose(xs.reshape([2, n / 2, cin]), [2, 0, 1]).reshape([cin, n]) as tf.Tensor2D;
      taps.push(tf.matMul(xT, dy2));
    }
  return tf.stack(taps).reshape([k, k, cin, cout]);
}

function flatSetup(x: tf.Tensor4D, dy: tf.Tensor4D, k: number) {
  const [b, h, wd, cin] = x.shape;
  const cout = dy.shape[3];
  const p = (k - 1) / 2;
  const hp = h + 2 * p,
    wp = wd + 2 * p,
    L = b * hp * wp;
  const n = b * h * wd;
  const xT = tf.transpose(x.reshape([2, n / 2, cin]), [2, 0, 1]).reshape([cin, b, h, wd]);
  const flat = tf
    .pad(xT, [
      [0, 1],
      [0, 0],
      [p, p],
      [p, p],
    ])
    .reshape([(cin + 1) * L]);
  const dyPad = tf
    .pad(dy, [
      [0, 0],
      [0, 2 * p],
      [0, 2 * p],
      [0, 0],
    ])
    .reshape([L, cout]) as tf.Tensor2D;
  return { cin, cout, L, wp, flat, dyPad };
}
function flat(x: tf.Tensor4D, dy: tf.Tensor4D, k: number) {
  const { cin, cout, L, wp, flat, dyPad } = flatSetup(x, dy, k);
  const parts: tf.Tensor[] = [];
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) parts.push(tf.slice(flat, [i * wp + j], [cin * L]));
  const a = tf.concat(parts).reshape([k * k * cin, L]) as tf.Tensor2D;
  return tf.matMul(a, dyPad).reshape([k, k, cin, cout]);
}
function flat9(x: tf.Tensor4D, dy: tf.Tensor4D, k: number) {
  const { cin, cout, L, wp, flat, dyPad } = flatSetup(x, dy, k);
  const parts: tf.Tensor[] = [];
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++)
      parts.push(tf.matMul(tf.slice(flat, [i * wp + j], [cin * L]).reshape([cin, L]) as tf.Tensor2D, dyPad));
  return tf.concat(parts).reshape([k, k, cin, cout]);
}

// Compact layout: one shared pad column/row between neighbours (right pad of a row = left pad of the next), a zero
// channel on either side; `offsets` are the k² taps' windows into `flat`. It is conv.ts's own layout, so compK
// times what conv.ts runs off wasm.
function compact(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, nine: boolean) {
  const { cin, cout, len: L, rows: flat, dyPad, offsets } = compactFilterGradLayout(x, dy, k);
  const parts = offsets.map((offset) => {
    const a = tf.slice(flat, [offset], [cin * L]);
    return nine ? tf.matMul(a.reshape([cin, L]) as tf.Tensor2D, dyPad) : a;
  });
  if (nine) return tf.concat(parts).reshape([k, k, cin, cout]);
  return tf.matMul(tf.concat(parts).reshape([k * k * cin, L]) as tf.Tensor2D, dyPad).reshape([k, k, cin, cout]);
}

function compK(x: tf.Tensor4D, dy: tf.Tensor4D, k: number) {
  const { cin, cout, len: L, rows: flat, dyPad, offsets } = compactFilterGradLayout(x, dy, k);
  const a = shiftedRows(flat, offsets, cin * L).reshape([k * k * cin, L]) as tf.Tensor2D;
  return tf.matMul(a, dyPad).reshape([k, k, cin, cout]);
}

const variants: Record<string, (x: tf.Tensor4D, dy: tf.Tensor4D, k: number) => tf.Tensor> = {
  cur,
  c8: chunked(8),
  perTap,
  flat,
  flat9,
  comp9: (x, dy, k) => compact(x, dy, k, true),
  compK,
  wasmK: (x, dy, k) => wasmFilterGrad(x, dy, k, 1).dw,
  comp1: (x, dy, k) => compact(x, dy, k, false),
};
/** CPU ms of one call of `f` (its result read back), the median of 9. */
function medianCpuMs(f: () => tf.Tensor): number {
  const ts: number[] = [];
  for (let r = 0; r < 9; r++) {
    const c0 = process.cpuUsage();
    const y = tf.tidy(f);
    y.dataSync();
    const c = process.cpuUsage(c0);
    ts.push((c.user + c.system) / 1000);
    y.dispose();
  }
  ts.sort((a, b) => a - b);
  return ts[4]!;
}
const shapes = (process.env['SHAPES'] ?? '16x32x32x32x32,16x16x16x64x64,16x8x8x64x64,16x32x32x64x32')
  .split(',')
  .map((s) => s.split('x').map(Number));
const only = process.env['ONLY']?.split(',');
for (const [b, h, w, cin, cout] of shapes) {
  const x = tf.randomNormal([b!, h!, w!, cin!]) as tf.Tensor4D;
  const dy = tf.randomNormal([b!, h!, w!, cout!]) as tf.Tensor4D;
  const wt = tf.randomNormal([3, 3, cin!, cout!]) as tf.Tensor4D;
  const fwd = medianCpuMs(() => tf.fused.conv2d({ x, filter: wt, strides: 1, pad: 'same' }));
  const ref = tf.tidy(() => cur(x, dy, 3));
  const row: Record<string, number | string> = { shape: `${b}x${h}x${w}x${cin}->${cout}`, fwd: +fwd.toFixed(2) };
  for (const [name, f] of Object.entries(variants)) {
    if (only && !only.includes(name)) continue;
    const out = tf.tidy(() => f(x, dy, 3));
    const err = tf.tidy(() => tf.max(tf.abs(tf.sub(out, ref))).dataSync()[0]! / tf.max(tf.abs(ref)).dataSync()[0]!);
    out.dispose();
    row[name] = +medianCpuMs(() => f(x, dy, 3)).toFixed(2);
    if (err > 1e-4) row[name + 'Err'] = err;
  }
  console.log(JSON.stringify(row));
  tf.dispose([x, dy, wt, ref]);
}
if (process.env['PARTS']) {
  for (const [b, h, w, cin, cout] of shapes) {
    const x = tf.randomNormal([b!, h!, w!, cin!]) as tf.Tensor4D;
    const dy = tf.randomNormal([b!, h!, w!, cout!]) as tf.Tensor4D;
    const xt = outerToInner(x);
    const dyF = spatialFirst(dy);
    const time = (f: () => tf.Tensor) => +medianCpuMs(f).toFixed(2);
    // the conv with a fresh filter each call (packing) vs the same filter (cached operator)
    const convFresh = time(() =>
      tf.conv2d(xt, tf.add(dyF, 0) as tf.Tensor4D, 1, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]),
    );
    const copyOnly = time(() => tf.add(dyF, 0));
    const convCached = time(() =>
      tf.conv2d(xt, dyF, 1, [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0],
      ]),
    );
    const tx = time(() => outerToInner(x));
    const tdy = time(() => spatialFirst(dy));
    console.log(JSON.stringify({ shape: `${b}x${h}x${w}x${cin}->${cout}`, convFresh, copyOnly, convCached, tx, tdy }));
  }
}
