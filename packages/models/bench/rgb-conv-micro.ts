/**
 * Micro-benchmark of the 3×3 convs to 3 channels on wasm (the UNet's RGB output conv, and the shape of its RGB stem's
 * input gradient): XNNPACK's conv with and without bias against ours (conv2dCustomGrad's forward: Winograd on the
 * filter padded to 8 channels, then a slice), called in alternation in one process so that all see the same load,
 * in CPU ms per call (10th percentile of 57). One JSON line per shape with the load average (the machine may be
 * shared). Run it with TurboFan from the start: node --no-liftoff --import tsx bench/rgb-conv-micro.ts
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { conv2dCustomGrad } from '../src/nn/conv.ts';
import { wasmConvKernelsAvailable } from '../src/nn/wasm-conv.ts';
import { installWasmKernelFixes } from '../src/nn/wasm-kernels.ts';
import { alternatingCpuMs, quantile } from './harness.ts';

await selectBackend({ prefer: 'wasm', fallback: false });
installWasmKernelFixes();
if (!wasmConvKernelsAvailable()) throw new Error('the wasm conv kernels cannot run here');
// [batch, size, channels]: the tiny preset at batch 16, the small one at batch 32
for (const [b, h, c] of [
  [16, 16, 16],
  [32, 32, 32],
] as const) {
  const x = tf.randomNormal([b, h, h, c]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, c, 3]) as tf.Tensor4D;
  const bias = tf.randomNormal([3]) as tf.Tensor1D;
  const fns: Record<string, () => tf.Tensor> = {
    xnnpack: () => tf.fused.conv2d({ x, filter: w, bias, strides: 1, pad: 'same' }),
    xnnpackNoBias: () => tf.conv2d(x, w, 1, 'same'),
    paddedWinograd: () => conv2dCustomGrad(x, w, bias, 1),
  };
  const times = alternatingCpuMs(fns, 60);
  const line: Record<string, unknown> = { bench: 'wasm.rgb-out-conv', shape: `${b}x${h}x${h}x${c}->3` };
  for (const [name, t] of Object.entries(times)) line[`${name}Ms`] = +quantile(t, 0.1).toFixed(3);
  line['loadavg1'] = +loadavg()[0]!.toFixed(2);
  console.log(JSON.stringify(line));
  tf.dispose([x, w, bias]);
}
