import type { NoiseSchedule } from '../schedule.ts';

/**
 * Which of the schedule's T timesteps a sampler with fewer steps visits (Lin et al. 2023, table 2):
 * - `linspace`: evenly over [0, T−1], both ends included (Improved DDPM's space_timesteps).
 * - `trailing`: T−1, T−1−T/n, …, down to ≈ T/n − 1: starts at pure noise, and every one of the n steps is
 *   a full stride (the last goes from ≈ T/n − 1 to the clean image).
 * - `leading`: 0, T/n, 2T/n, … (the DDIM paper's choice): never visits T−1, so the first step starts from
 *   x_T ~ N(0, I) as if it were x_{T−T/n}.
 */
export type TimestepSpacing = 'linspace' | 'trailing' | 'leading';

export const TIMESTEP_SPACINGS: readonly TimestepSpacing[] = ['linspace', 'trailing', 'leading'];

/** `steps` timesteps of a schedule with T steps, ascending, distinct; see TimestepSpacing. */
export function spacedTimesteps(T: number, steps: number, spacing: TimestepSpacing = 'linspace'): number[] {
  if (!Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new RangeError(`steps must be an integer in [1, ${T}] (the schedule's T), got ${steps}`);
  }
  const out: number[] = [];
  if (spacing === 'linspace') {
    if (steps === 1) return [T - 1];
    const stride = (T - 1) / (steps - 1);
    for (let i = 0; i < steps; i++) out.push(Math.round(i * stride));
  } else if (spacing === 'trailing') {
    const stride = T / steps;
    for (let i = steps - 1; i >= 0; i--) out.push(Math.round(T - i * stride) - 1);
  } else if (spacing === 'leading') {
    const stride = Math.floor(T / steps);
    for (let i = 0; i < steps; i++) out.push(i * stride);
  } else {
    throw new RangeError(`spacing must be one of ${TIMESTEP_SPACINGS.join(', ')}, got ${String(spacing)}`);
  }
  return out;
}

/** Per-step float64 tables of the reverse process over a subset of timesteps. */
export interface ReverseTables {
  /** Original timesteps the model is called with, ascending. */
  timesteps: number[];
  alphasCumprod: Float64Array;
  alphasCumprodPrev: Float64Array;
  betas: Float64Array;
  posteriorVariance: Float64Array;
  posteriorLogVarianceClipped: Float64Array;
  posteriorMeanCoef1: Float64Array;
  posteriorMeanCoef2: Float64Array;
}

/**
 * Reverse-process tables for the chosen timesteps. With every timestep these are the schedule's own
 * tables; with fewer, β_i = 1 − ᾱ_{t_i}/ᾱ_{t_{i-1}} (Improved DDPM respacing), which keeps ᾱ at the
 * kept timesteps unchanged.
 */
export function reverseTables(schedule: NoiseSchedule, timesteps: number[]): ReverseTables {
  const n = timesteps.length;
  if (n === schedule.T && timesteps.every((t, i) => t === i)) {
    return {
      timesteps,
      alphasCumprod: schedule.alphasCumprod,
      alphasCumprodPrev: schedule.alphasCumprodPrev,
      betas: schedule.betas,
      posteriorVariance: schedule.posteriorVariance,
      posteriorLogVarianceClipped: schedule.posteriorLogVarianceClipped,
      posteriorMeanCoef1: schedule.posteriorMeanCoef1,
      posteriorMeanCoef2: schedule.posteriorMeanCoef2,
    };
  }
  const alphasCumprod = new Float64Array(n);
  const alphasCumprodPrev = new Float64Array(n);
  const betas = new Float64Array(n);
  const posteriorVariance = new Float64Array(n);
  const posteriorLogVarianceClipped = new Float64Array(n);
  const posteriorMeanCoef1 = new Float64Array(n);
  const posteriorMeanCoef2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = timesteps[i]!;
    const ab = schedule.alphasCumprod[t];
    if (ab === undefined) throw new RangeError(`timestep ${t} is outside the schedule (T = ${schedule.T})`);
    const prev = i === 0 ? 1 : alphasCumprod[i - 1]!;
    const beta = 1 - ab / prev;
    alphasCumprod[i] = ab;
    alphasCumprodPrev[i] = prev;
    betas[i] = beta;
    posteriorVariance[i] = (beta * (1 - prev)) / (1 - ab);
    posteriorMeanCoef1[i] = (beta * Math.sqrt(prev)) / (1 - ab);
    posteriorMeanCoef2[i] = ((1 - prev) * Math.sqrt(1 - beta)) / (1 - ab);
  }
  for (let i = 0; i < n; i++) {
    const v = i === 0 ? (n > 1 ? posteriorVariance[1]! : betas[0]!) : posteriorVariance[i]!;
    posteriorLogVarianceClipped[i] = Math.log(v);
  }
  return {
    timesteps,
    alphasCumprod,
    alphasCumprodPrev,
    betas,
    posteriorVariance,
    posteriorLogVarianceClipped,
    posteriorMeanCoef1,
    posteriorMeanCoef2,
  };
}
