/**
 * The samplers a user can pick (run grids, the hub's generateSamples and evaluations, the browser), by name.
 * TF.js-free, so the run-config schema can import it.
 * - `ddim`: DDIM, deterministic for η = 0 (Song et al. 2021).
 * - `ddpm`: DDPM ancestral sampling, respaced to `steps` (uses a learned variance when the model has one).
 * - `dpmpp-2m`: DPM-Solver++(2M), the second-order multistep ODE solver (Lu et al. 2022).
 * - `dpmpp-2m-sde`: its stochastic form (SDE-DPM-Solver++(2M)); its first-order step is DDPM's.
 */
export const SAMPLER_KINDS = ['ddim', 'ddpm', 'dpmpp-2m', 'dpmpp-2m-sde'] as const;
export type SamplerKind = (typeof SAMPLER_KINDS)[number];

/**
 * The default sampler and step count, chosen by measurement (docs/samplers.md): on a tiny model trained for
 * 1,000–3,000 steps the deterministic samplers (DDIM, DPM-Solver++ ODE) carry the model's error to the end and
 * leave grain at any step count, while the stochastic ones correct it; SDE-DPM-Solver++(2M) at 50 steps matched
 * DDPM at 100–1,000 steps and, on the exact mixture tests, DDIM-50 on a perfect denoiser.
 */
export const DEFAULT_SAMPLER: SamplerKind = 'dpmpp-2m-sde';
export const DEFAULT_SAMPLE_STEPS = 50;

/**
 * Classifier-free guidance of a class-conditional run's grid rows by default. Measured on the tiny model after
 * 3,000 steps (docs/samplers.md): the share of samples a classifier reads as their row's class was 54 % with the
 * old grids (DDIM-50, unguided), 69 % with SDE-DPM-Solver++ unguided, 91 % at guidance 2 and 96–98 % at 3.
 */
export const DEFAULT_CLASS_GUIDANCE = 3;
