/**
 * Micro-benchmark of one stride-1 3×3 conv on wasm: XNNPACK's (tf.fused.conv2d) against ours (wasmConv) and
 * our filter gradient (wasmFilterGrad), in CPU ms per call (lower quartile of 15) and GMAC/s. Prints one JSON
 * line per shape. Run it with TurboFan from the start, or the first shapes time Liftoff's baseline code:
 *   node --no-liftoff --import tsx bench/conv-micro.ts     env SHAPES=BxHxWxCinxCout,…
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { installWasmKernelFixes } from '../src/nn/wasm-kernels.ts';
import { wasmConv, wasmConvKernelsAvailable, wasmFilterGrad, wasmWinogradConv } from '../src/nn/wasm-conv.ts';

await selectBackend({ prefer: 'wasm', fallback: false });
installWasmKernelFixes();
if (!wasmConvKernelsAvailable()) throw new Error('the wasm conv kernels cannot run here');
const shapes = (process.env['SHAPES'] ?? '32x32x32x32x32,32x16x16x64x64,32x8x8x64x64,32x32x32x96x32').split(',');
function cpuMs(fn: () => tf.Tensor | tf.Tensor[]): number {
  const times: number[] = [];
  for (let i = 0; i < 16; i++) {
    const c0 = process.cpuUsage();
    const out = fn();
    for (const o of Array.isArray(out) ? out : [out]) o.dataSync();
    const c = process.cpuUsage(c0);
    tf.dispose(out);
    if (i > 0) times.push((c.user + c.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 4)]!; // lower quartile: the machine is shared
}
for (const s of shapes) {
  const [b, h, w, cin, cout] = s.split('x').map(Number) as [number, number, number, number, number];
  const x = tf.randomNormal([b, h, w, cin]) as tf.Tensor4D;
  const f = tf.randomNormal([3, 3, cin, cout]) as tf.Tensor4D;
  const bias = tf.randomNormal([cout]) as tf.Tensor1D;
  const dy = tf.randomNormal([b, h, w, cout]) as tf.Tensor4D;
  const gmac = (b * h * w * 9 * cin * cout) / 1e9;
  const xnn = cpuMs(() => tf.fused.conv2d({ x, filter: f, bias, strides: 1, pad: 'same' }));
  const ours = cpuMs(() =>
    wasmConv(
      x,
      f,
      [
        [1, 1],
        [1, 1],
      ],
      bias,
    ),
  );
  const wino = cpuMs(() => wasmWinogradConv(x, f, bias));
  const dw = cpuMs(() => {
    const r = wasmFilterGrad(x, dy, 3, 1);
    return [r.dw, r.db];
  });
  const a = tf.fused.conv2d({ x, filter: f, bias, strides: 1, pad: 'same' });
  const o = wasmConv(
    x,
    f,
    [
      [1, 1],
      [1, 1],
    ],
    bias,
  );
  const wg = wasmWinogradConv(x, f, bias);
  const maxDiff = tf.max(tf.abs(tf.sub(a, o))).dataSync()[0];
  const winoMaxDiff = tf.max(tf.abs(tf.sub(a, wg))).dataSync()[0];
  console.log(
    JSON.stringify({
      shape: s,
      xnnMs: xnn,
      oursMs: ours,
      dwMs: dw,
      xnnGmacPerS: +((gmac / xnn) * 1000).toFixed(1),
      oursGmacPerS: +((gmac / ours) * 1000).toFixed(1),
      dwGmacPerS: +((gmac / dw) * 1000).toFixed(1),
      winoMs: wino,
      // direct-conv MACs over Winograd's time: the speed a direct conv would need to keep up
      winoEffGmacPerS: +((gmac / wino) * 1000).toFixed(1),
      maxDiff,
      winoMaxDiff,
    }),
  );
}
