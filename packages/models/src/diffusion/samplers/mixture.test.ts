import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../backend.ts';
import { Rng } from '../../rng.ts';
import { makeSchedule, type NoiseSchedule } from '../schedule.ts';
import { ddimSample } from './ddim.ts';
import { ddpmSample } from './ddpm.ts';
import { dpmSolverSample } from './dpm-solver.ts';
import { mixtureDenoiser, mixtureStats, sampleMixture, type GaussianMixture } from './gaussian-mixture.ts';
import type { Prediction } from './types.ts';

// The wasm backend, as the trainer and sampling workers run: its SIMD elementwise kernels make the ~30 runs of
// 1,000 steps over 4,096 points ~2.5× cheaper in CPU than the cpu backend.
beforeAll(async () => {
  await selectBackend({ prefer: 'wasm' });
});

/** Three 2-D modes with unequal weights and spreads; one 1-D pair, 3:1. All well inside [-1, 1]. */
const MIX_2D: GaussianMixture = {
  weights: [0.5, 0.3, 0.2],
  means: [
    [-0.6, -0.4],
    [0.5, -0.5],
    [0.1, 0.55],
  ],
  stds: [0.1, 0.08, 0.18],
};
const MIX_1D: GaussianMixture = { weights: [0.75, 0.25], means: [[-0.3], [0.6]], stds: [0.2, 0.08] };

/**
 * Every pixel of a 16×16×16 batch is one independent point of the mixture: 4,096 samples per run, so a mode of
 * weight 0.2 holds ~820 of them. Standard errors then: mode weight ≤ 0.008, a mode's mean ≈ 0.05·s (norm, 2-D),
 * its spread ≈ 2 %. Everything is seeded, so the runs cannot flake; the tolerances below leave ≥ 4 standard errors
 * besides the sampler's own discretisation error, which is what they bound:
 * - mode weight: within 0.03 of the true weight at any step count;
 * - a mode's mean: within 0.15·s_k of μ_k at 1,000 steps, 0.35·s_k at 50 (≤ 0.03 in image units);
 * - a mode's spread s̃_k/s_k: within ±10 % at 1,000 steps. At 50 steps every correct sampler shrinks narrow modes
 *   (its last steps jump over noise levels comparable to s_k and end on a posterior mean): for a single Gaussian of
 *   std 0.08 the exact recursion in samplers.test.ts gives −36 % (DDPM-50, linear) to −15 % (DDIM-50, cosine).
 *   So 50 steps must land in [−35 %, +15 %];
 * - samples farther than 4·s_k from every mode (true fraction 0.03 % in 2-D): at most 1 %.
 */
const N_SHAPE: [number, number, number, number] = [16, 16, 16, 0];
const TOLERANCE = {
  weight: 0.03,
  mean: { 50: 0.35, 1000: 0.15 },
  spread: { 50: [-0.35, 0.15], 1000: [-0.1, 0.1] },
  offMode: 0.01,
} as const;

type SamplerName = 'ddpm' | 'ddim η=0' | 'ddim η=1' | 'dpm-solver++(2M)' | 'sde-dpm-solver++(2M)';
const SAMPLERS: SamplerName[] = ['ddpm', 'ddim η=0', 'ddim η=1', 'dpm-solver++(2M)', 'sde-dpm-solver++(2M)'];

function run(
  sampler: SamplerName,
  mix: GaussianMixture,
  schedule: NoiseSchedule,
  prediction: Prediction,
  steps: number,
): Promise<tf.Tensor4D> {
  const shape: [number, number, number, number] = [N_SHAPE[0], N_SHAPE[1], N_SHAPE[2], mix.means[0]!.length];
  const base = { denoiser: mixtureDenoiser(mix, schedule, prediction), schedule, prediction, shape, seed: 17, steps };
  if (sampler === 'ddpm') return ddpmSample(base);
  if (sampler === 'ddim η=0') return ddimSample({ ...base, eta: 0 });
  if (sampler === 'ddim η=1') return ddimSample({ ...base, eta: 1 });
  return dpmSolverSample({ ...base, stochastic: sampler === 'sde-dpm-solver++(2M)' });
}

/** Everything that is off, as readable lines (empty when the samples match the mixture within TOLERANCE). */
function mismatches(mix: GaussianMixture, samples: ArrayLike<number>, steps: 50 | 1000): string[] {
  const stats = mixtureStats(mix, samples);
  const out: string[] = [];
  const [low, high] = TOLERANCE.spread[steps];
  mix.weights.forEach((w, k) => {
    const s = mix.stds[k]!;
    const weight = stats.weights[k]!;
    const meanErr = Math.hypot(...stats.means[k]!.map((m, j) => m - mix.means[k]![j]!)) / s;
    const spread = stats.stds[k]! / s - 1;
    if (Math.abs(weight - w) > TOLERANCE.weight) out.push(`mode ${k}: weight ${weight.toFixed(3)}, true ${w}`);
    if (!(meanErr <= TOLERANCE.mean[steps])) out.push(`mode ${k}: mean off by ${meanErr.toFixed(3)}·s`);
    if (!(spread >= low && spread <= high)) out.push(`mode ${k}: spread ${(100 * spread).toFixed(1)} %`);
  });
  if (stats.offMode > TOLERANCE.offMode) out.push(`${(100 * stats.offMode).toFixed(2)} % of samples off every mode`);
  return out;
}

describe('samplers reproduce Gaussian-mixture data with its exact optimal denoiser', { timeout: 600_000 }, () => {
  it('the statistics themselves: exact draws from the mixture pass, a wrong weight or spread does not', () => {
    const exact = sampleMixture(MIX_2D, 4096, new Rng(1));
    expect(mismatches(MIX_2D, exact, 1000)).toEqual([]);
    const skewed = sampleMixture({ ...MIX_2D, weights: [0.42, 0.38, 0.2] }, 4096, new Rng(1));
    expect(mismatches(MIX_2D, skewed, 50).join('\n')).toMatch(/mode 0: weight/);
    const wide = sampleMixture({ ...MIX_2D, stds: [0.1, 0.08, 0.22] }, 4096, new Rng(1));
    expect(mismatches(MIX_2D, wide, 1000).join('\n')).toMatch(/mode 2: spread/);
  });

  for (const kind of ['linear', 'cosine'] as const) {
    const schedule = makeSchedule({ kind, T: 1000 });
    it(`${kind} schedule: DPM-Solver++(2M) converges to the probability-flow ODE's solution with order 2, DDIM with order ≈ 1`, async () => {
      // Deterministic samplers map each x_T to one x_0: compare them sample by sample with the ODE's solution from
      // the same x_T (DPM-Solver++ at 1,000 steps, whose own error is ~(160/1000)² of the 160-step one's). A
      // second-order method's error falls ~4× when the steps double; a first-order one's ~2×. Measured here:
      // 80 → 160 steps shrinks the error 3.9× (linear) / 4.4× (cosine) for DPM-Solver++ and ≤ 2.5× for DDIM; a
      // wrong multistep coefficient (r for 1/r) measured 2.5× / 3.0×, and 0.62 / 0.29 of DDIM's error.
      const base = {
        denoiser: mixtureDenoiser(MIX_2D, schedule, 'eps'),
        schedule,
        prediction: 'eps' as const,
        shape: [4, 16, 16, 2] as [number, number, number, number],
        seed: 3,
        spacing: 'trailing' as const,
      };
      const values = async (p: Promise<tf.Tensor4D>) => {
        const out = await p;
        const v = await out.data();
        out.dispose();
        return v;
      };
      const reference = await values(dpmSolverSample({ ...base, steps: 1000 }));
      const rmsError = (v: ArrayLike<number>) => {
        let sum = 0;
        for (let i = 0; i < v.length; i++) sum += (v[i]! - reference[i]!) ** 2;
        return Math.sqrt(sum / v.length);
      };
      const dpm80 = rmsError(await values(dpmSolverSample({ ...base, steps: 80 })));
      const dpm160 = rmsError(await values(dpmSolverSample({ ...base, steps: 160 })));
      const ddim80 = rmsError(await values(ddimSample({ ...base, steps: 80 })));
      const ddim160 = rmsError(await values(ddimSample({ ...base, steps: 160 })));
      expect(dpm80 / dpm160).toBeGreaterThan(3.4);
      expect(ddim80 / ddim160).toBeLessThan(3);
      expect(dpm160).toBeLessThan(0.5 * ddim160);
    });
    for (const prediction of ['eps', 'v', 'x0'] as const) {
      it(`${kind} schedule, ${prediction}-prediction: every sampler at 50 and 1,000 steps`, async () => {
        const failures: string[] = [];
        for (const steps of [50, 1000] as const) {
          for (const sampler of SAMPLERS) {
            for (const [name, mix] of [
              ['2-D', MIX_2D],
              ['1-D', MIX_1D],
            ] as const) {
              // The 1-D pair at 1,000 steps only for ε: the 2-D case already covers every combination there.
              if (name === '1-D' && steps === 1000 && prediction !== 'eps') continue;
              const out = await run(sampler, mix, schedule, prediction, steps);
              const samples = await out.data();
              out.dispose();
              for (const m of mismatches(mix, samples, steps))
                failures.push(`${sampler}, ${steps} steps, ${name}: ${m}`);
            }
          }
        }
        expect(failures).toEqual([]);
      });
    }
  }
});
