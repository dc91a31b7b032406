/**
 * Micro-benchmark of the forward of a 1×1 conv / dense layer on wasm: XNNPACK's 1×1 conv (tf.fused.conv2d) and fused
 * matMul against our matmul kernel with the bias (wasmBatchMatMul), called in alternation in one process so that all
 * three see the same load, in CPU ms per call (10th percentile of 27) and GMAC/s. One JSON line per shape, with the
 * load average (the machine may be shared). Run it with TurboFan from the start:
 *   node --no-liftoff --import tsx bench/matmul-micro.ts     env SHAPES=pixelsxCinxCout,…
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { installWasmKernelFixes } from '../src/nn/wasm-kernels.ts';
import { wasmBatchMatMul, wasmBatchMatMulFits } from '../src/nn/wasm-matmul.ts';
import { alternatingCpuMs, quantile } from './harness.ts';

await selectBackend({ prefer: 'wasm', fallback: false });
installWasmKernelFixes();
// The small UNet's 1×1 skip convs (32×32, 16×16 and 8×8 levels at batch 32) and its attention projections.
const shapes = (process.env['SHAPES'] ?? '32768x96x32,32768x64x32,8192x128x64,2048x128x64,2048x64x64').split(',');
for (const s of shapes) {
  const [m, cin, cout] = s.split('x').map(Number) as [number, number, number];
  if (!wasmBatchMatMulFits([m, cin], [cin, cout], false, false)) throw new Error(`our kernel does not take ${s}`);
  const x = tf.randomNormal([m, cin]) as tf.Tensor2D;
  const w = tf.randomNormal([cin, cout]) as tf.Tensor2D;
  const bias = tf.randomNormal([cout]) as tf.Tensor1D;
  const x4 = x.reshape([1, 1, m, cin]) as tf.Tensor4D;
  const w4 = w.reshape([1, 1, cin, cout]) as tf.Tensor4D;
  const fns: Record<string, () => tf.Tensor> = {
    xnnpackConv1x1: () => tf.fused.conv2d({ x: x4, filter: w4, bias, strides: 1, pad: 'same' }),
    xnnpackFusedMatMul: () => tf.fused.matMul({ a: x, b: w, bias }),
    ours: () => wasmBatchMatMul(x, w, false, false, bias),
  };
  const times = alternatingCpuMs(fns, 30);
  const gmac = (m * cin * cout) / 1e9;
  const line: Record<string, unknown> = { bench: 'wasm.matmul-forward', shape: s };
  for (const [name, t] of Object.entries(times)) {
    const ms = quantile(t, 0.1);
    line[`${name}Ms`] = +ms.toFixed(3);
    line[`${name}GmacPerS`] = +((gmac / ms) * 1000).toFixed(1);
  }
  line['oursVsXnnpackConv'] = +((line['xnnpackConv1x1Ms'] as number) / (line['oursMs'] as number)).toFixed(2);
  line['loadavg1'] = +loadavg()[0]!.toFixed(2);
  console.log(JSON.stringify(line));
  tf.dispose([x, w, bias, x4, w4]);
}
