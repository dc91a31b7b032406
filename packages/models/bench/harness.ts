/**
 * What the timing benches share: the UNet they time (its zero-initialised output layers moved off zero so the timed
 * work is representative), its batch, the training step they time, the wall/CPU clock with the median they report,
 * and the micro-benches' alternating calls.
 */
import * as tf from '@tensorflow/tfjs';
import { makeSchedule, type NoiseSchedule } from '../src/diffusion/schedule.ts';
import type { TrainerConfig } from '../src/diffusion/train.ts';
import { createUNet, type UNet, type UNetConfig } from '../src/diffusion/unet.ts';
import { Rng } from '../src/rng.ts';

/** The preset's UNet with every weight nudged by N(0, 0.02²), so no layer multiplies by zero. */
export function benchUNet(config: UNetConfig): UNet {
  const model = createUNet(config, 0);
  for (const v of model.variables.values()) v.assign(tf.tidy(() => tf.add(v, new Rng(1).normal(v.shape).mul(0.02))));
  return model;
}

/** `batch` images of the config's size, N(0, 1) clipped to [-1, 1]. */
export function benchImages(config: Pick<UNetConfig, 'resolution' | 'channels'>, batch: number): tf.Tensor4D {
  const r = config.resolution;
  return tf.tidy(() => tf.clipByValue(new Rng(2).normal([batch, r, r, config.channels]), -1, 1)) as tf.Tensor4D;
}

/** The training step every bench times: eps-MSE on a linear schedule, Adam at 1e-4, clipping at 1, default EMA. */
export function benchTrainerConfig(model: UNet): TrainerConfig & { optimizer: { kind: 'adam' } } {
  return {
    model,
    schedule: makeSchedule({ kind: 'linear' }),
    prediction: 'eps',
    optimizer: { kind: 'adam' },
    lr: 1e-4,
    clipNorm: 1,
    rng: new Rng(3),
  };
}

/**
 * The trainer a dashboard DDPM run gets by default (AdamW 2e-4 without weight decay, clipping at 1, EMA 0.9999 with
 * warm-up, label dropout 0.1, ε-prediction), for the quality benches that compare against it.
 */
export function ddpmRunTrainerConfig(model: UNet, schedule: NoiseSchedule, seed: number): TrainerConfig {
  return {
    model,
    schedule,
    prediction: 'eps',
    optimizer: { kind: 'adamw', weightDecay: 0 },
    lr: 2e-4,
    ema: { maxDecay: 0.9999 },
    clipNorm: 1,
    rng: new Rng(seed),
    labelDropout: 0.1,
  };
}

export interface Timing {
  wall: number;
  cpu: number;
}

/** Process CPU milliseconds (user + system, every thread) since `since` (a process.cpuUsage()). */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const cpu = process.cpuUsage(since);
  return (cpu.user + cpu.system) / 1000;
}

/**
 * Wall and CPU milliseconds of one call. wasm runs one thread, so CPU time is the work done and stays meaningful
 * when other jobs share the 2 cores (wall time then includes waiting for a core).
 */
export async function timed(fn: () => Promise<void>): Promise<Timing> {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await fn();
  return { wall: performance.now() - start, cpu: cpuMsSince(cpu0) };
}

/** The upper median (the middle element of an odd count). */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** The median wall and the median CPU time of a series of calls (each its own median). */
export function medianTiming(times: readonly Timing[]): Timing {
  return { wall: median(times.map((t) => t.wall)), cpu: median(times.map((t) => t.cpu)) };
}

/**
 * CPU milliseconds per call of each function, called in turn round after round in one process so that all of them
 * see the same load (the machine may be shared); the first `warm` rounds are dropped. Each call's result is read
 * back (dataSync) before its time is taken, then disposed.
 */
export function alternatingCpuMs(
  fns: Record<string, () => tf.Tensor>,
  rounds: number,
  warm = 3,
): Record<string, number[]> {
  const times: Record<string, number[]> = {};
  for (let i = 0; i < rounds; i++) {
    for (const [name, fn] of Object.entries(fns)) {
      const c0 = process.cpuUsage();
      const out = fn();
      out.dataSync();
      const ms = cpuMsSince(c0);
      tf.dispose(out);
      if (i >= warm) (times[name] ??= []).push(ms);
    }
  }
  return times;
}

/** The value at fraction `q` of the sorted series (q = 0.1: a low percentile, what a call costs when undisturbed). */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length * q)]!;
}
