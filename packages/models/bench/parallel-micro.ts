/**
 * The two design choices of data-parallel CPU training (src/parallel/), measured on one thread per preset:
 *  - the gradient sum: our wasm SIMD kernel (nn/wasm/reduce-kernels.wat) vs a typed-array loop over the shared
 *    exchange, for 2 ranks (`reduceMs`, `reduceJsMs`);
 *  - where the update runs: replicated in every rank (each pays `updateMs`, in parallel) vs once in rank 0 and
 *    broadcast (`updateMs` + `broadcastOutMs` to copy the new weights into shared memory + `broadcastInMs` for
 *    each replica to load them, while the replicas wait).
 * Also the exchange traffic every step pays either way (`writeMs`: a rank's gradient into the exchange,
 * `readMs`: the sum back into a tensor) and the EMA update that only rank 0 does. Each: fastest of 9 calls
 * (`*MedianMs`: their median).
 * Usage: npm run bench -w @dapple/models -- --parallel-micro [--presets tiny,small,base]
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { presetConfig, type PresetName } from '../src/diffusion/presets.ts';
import { createUNet } from '../src/diffusion/unet.ts';
import { Ema } from '../src/optim/ema.ts';
import { createOptimizer } from '../src/optim/optimizers.ts';
import { GradientExchange } from '../src/parallel/exchange.ts';
import { writeGradients } from '../src/parallel/replica.ts';
import { Rng } from '../src/rng.ts';

const presetsAt = process.argv.indexOf('--presets');
const presets = (process.argv[presetsAt + 1] && presetsAt > 0 ? process.argv[presetsAt + 1]! : 'tiny,small,base').split(
  ',',
) as PresetName[];
await selectBackend({ prefer: 'wasm', fallback: false });
tf.enableProdMode();

/** Fastest and median of 9 calls after a warm-up: on a loaded machine the fastest is the cost without waiting. */
async function timed(fn: () => unknown, reps = 9): Promise<{ min: number; median: number }> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  out.sort((a, b) => a - b);
  return { min: +out[0]!.toFixed(3), median: +out[Math.floor(reps / 2)]!.toFixed(3) };
}

for (const preset of presets) {
  const model = createUNet(presetConfig(preset), 0);
  const optimizer = createOptimizer(model.variables, { kind: 'adam' });
  const ema = new Ema(model.variables);
  const layout = optimizer.layout;
  const sizes = layout.buckets.map((b) => b.size);
  const flats = sizes.map((n, i) => tf.tensor1d(new Rng(i).normalArray(n)));
  const exchange = GradientExchange.create({ ranks: 2, bucketSizes: sizes });
  await writeGradients(exchange, 1, flats);

  const scale = tf.scalar(0.5);
  const updateMs = await timed(() => optimizer.applyFlat(flats, 1e-4, scale));
  const emaMs = await timed(() => ema.update());
  const writeMs = await timed(() => writeGradients(exchange, 0, flats));
  const readMs = await timed(() => tf.dispose(sizes.map((_, i) => tf.tensor1d(exchange.bucket(0, i)))));
  const reduceMs = await timed(() => exchange.reduce(0, exchange.regionElements));
  const reduceJsMs = await timed(() => exchange.reduceJs(0, exchange.regionElements));
  // Broadcast: rank 0 copies its new weights into shared memory (region 1 stands in for a weights area)…
  const broadcastOutMs = await timed(async () => {
    const packed = sizes.map((_, i) => layout.flatten(model.variables, i));
    await writeGradients(exchange, 1, packed);
    tf.dispose(packed);
  });
  // …and each replica loads them into its variables.
  const broadcastInMs = await timed(() => {
    sizes.forEach((_, i) => {
      const flat = tf.tensor1d(exchange.bucket(1, i));
      layout.assign(flat, i, model.variables);
      flat.dispose();
    });
  });
  const fields = { updateMs, emaMs, broadcastOutMs, broadcastInMs, writeMs, readMs, reduceMs, reduceJsMs };
  console.log(
    JSON.stringify({
      bench: 'cpu.parallel.micro',
      backend: 'wasm',
      preset,
      params: model.paramCount(),
      // Fastest of 9 calls (the uncontended cost); *MedianMs: the median under this load.
      ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.min])),
      ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k.replace(/Ms$/, 'MedianMs'), v.median])),
      replicatedOverBroadcast: +(updateMs.min / (updateMs.min + broadcastOutMs.min + broadcastInMs.min)).toFixed(3),
      reduceJsOverSimd: +(reduceJsMs.min / reduceMs.min).toFixed(2),
      loadAvg: loadavg().map((x) => +x.toFixed(2)),
      note: 'one thread, wasm; 2 shared vCPUs loaded by other work (loadAvg): read the fastest-call fields and ratios',
    }),
  );
  tf.dispose([...flats, scale]);
  optimizer.dispose();
  ema.dispose();
  model.dispose();
}
