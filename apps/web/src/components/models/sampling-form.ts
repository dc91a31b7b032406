// The playground's settings, checked in the page before they go to the server or the browser sampler.

import { DEFAULT_CLASS_GUIDANCE } from '@dapple/models/config';

/** The API's SamplerKind values, the playground's choices; the first is the default (the hub's and the run grids'). */
export const PLAYGROUND_SAMPLERS = [
  { value: 'DPMPP_2M_SDE', label: 'DPM-Solver++ 2M SDE' },
  { value: 'DPMPP_2M', label: 'DPM-Solver++ 2M' },
  { value: 'DDIM', label: 'DDIM' },
  { value: 'DDPM', label: 'DDPM' },
] as const;
export type PlaygroundSampler = (typeof PLAYGROUND_SAMPLERS)[number]['value'];

/** What the page calls a sampler (the API's enum value where it is not one of ours). */
export function samplerLabel(sampler: string): string {
  return PLAYGROUND_SAMPLERS.find((s) => s.value === sampler)?.label ?? sampler;
}

/** The API's enum value as the TF.js sampler's name (DPMPP_2M_SDE → dpmpp-2m-sde). */
export function samplerKindOf(sampler: PlaygroundSampler) {
  return sampler.toLowerCase().replaceAll('_', '-') as 'dpmpp-2m-sde' | 'dpmpp-2m' | 'ddim' | 'ddpm';
}

export interface SamplingSettings {
  seed: string;
  steps: string;
  sampler: PlaygroundSampler;
  eta: string;
  count: string;
  guidance: string;
  label: string;
  /** Glow models: the priors' temperature. */
  temperature: string;
}

export interface CheckedSettings {
  seed: number;
  steps: number;
  sampler: PlaygroundSampler;
  eta: number;
  count: number;
  guidance: number | null;
  label: string | null;
  /** Glow models only (null for a diffusion model). */
  temperature: number | null;
}

/** Glow's default sampling temperature (the hub's and the trainer's grids' too). */
export const DEFAULT_TEMPERATURE = '0.7';
/** The highest temperature the API takes (MAX_GLOW_TEMPERATURE). */
export const MAX_TEMPERATURE = 2;

export const DEFAULT_SETTINGS: SamplingSettings = {
  seed: '1',
  steps: '50',
  // The measured default (docs/samplers.md): on a model trained briefly the deterministic samplers leave grain.
  sampler: PLAYGROUND_SAMPLERS[0].value,
  eta: '0',
  count: '8',
  guidance: '',
  label: '',
  temperature: DEFAULT_TEMPERATURE,
};

export type SettingsErrors = Partial<Record<keyof SamplingSettings, string>>;

/** Reads a number typed into a field; out of [min, max] (or not a `kind`), says so under the field. */
function numberIn(
  kind: 'whole number' | 'number',
  text: string,
  min: number,
  max: number,
  name: string,
  errors: SettingsErrors,
  key: keyof SamplingSettings,
): number {
  const value = Number(text);
  const ok = kind === 'whole number' ? Number.isInteger(value) : Number.isFinite(value);
  if (text.trim() === '' || !ok || value < min || value > max)
    errors[key] = `${name} must be a ${kind} from ${min} to ${max}.`;
  return value;
}
const integer = numberIn.bind(null, 'whole number');
const decimal = numberIn.bind(null, 'number');

/**
 * The same limits the API enforces (count ≤ 64, steps ≤ 1000, eta and guidance ranges; a Glow model's
 * temperature in (0, 2], and no steps, sampler or guidance: it samples in one inverse pass).
 */
export function checkSettings(
  s: SamplingSettings,
  labelNames: readonly string[],
  architecture: 'DDPM' | 'GLOW' = 'DDPM',
): { ok: true; value: CheckedSettings } | { ok: false; errors: SettingsErrors } {
  const errors: SettingsErrors = {};
  const seed = integer(s.seed, 0, 2 ** 31 - 1, 'Seed', errors, 'seed');
  if (architecture === 'GLOW') {
    const count = integer(s.count, 1, 64, 'Count', errors, 'count');
    const label = s.label === '' ? null : s.label;
    if (label !== null && !labelNames.includes(label)) errors.label = 'Choose one of the model’s classes.';
    const temperature = Number(s.temperature);
    if (
      s.temperature.trim() === '' ||
      !Number.isFinite(temperature) ||
      temperature <= 0 ||
      temperature > MAX_TEMPERATURE
    )
      errors.temperature = `Temperature must be a number above 0 and at most ${MAX_TEMPERATURE}.`;
    if (Object.keys(errors).length > 0) return { ok: false, errors };
    return {
      ok: true,
      value: { seed, steps: 1, sampler: 'DDIM', eta: 0, count, guidance: null, label, temperature },
    };
  }
  const steps = integer(s.steps, 1, 1000, 'Steps', errors, 'steps');
  const count = integer(s.count, 1, 64, 'Count', errors, 'count');
  const eta = s.sampler === 'DDIM' ? decimal(s.eta, 0, 1, 'Eta', errors, 'eta') : 0;
  const label = s.label === '' ? null : s.label;
  if (label !== null && !labelNames.includes(label)) errors.label = 'Choose one of the model’s classes.';
  let guidance: number | null = null;
  if (s.guidance.trim() !== '') {
    guidance = decimal(s.guidance, 0, 20, 'Guidance', errors, 'guidance');
    if (label === null && !errors.guidance) errors.guidance = 'Guidance needs a class: choose a label.';
  } else if (label !== null) {
    // The hub's default too; spelled out so the browser sampler draws what the server would.
    guidance = DEFAULT_CLASS_GUIDANCE;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { seed, steps, sampler: s.sampler, eta, count, guidance, label, temperature: null } };
}

/** Maps an API error's `field` (e.g. "input.steps" or "steps") to the playground field it belongs to. */
export function fieldOf(field: string | undefined): keyof SamplingSettings | null {
  const name = field?.split('.').pop();
  return name && name in DEFAULT_SETTINGS ? (name as keyof SamplingSettings) : null;
}

/** What a sample job was asked for (SampleParams), as far as the form is concerned. */
export interface JobSettings {
  seed: number;
  count: number;
  steps: number;
  sampler: string;
  eta: number;
  guidance?: number | null;
  label?: string | null;
  temperature?: number | null;
}

/** The form's values that ask for the same images as an earlier job: "Use these settings" in the job history. */
export function settingsOf(p: JobSettings): SamplingSettings {
  return {
    seed: String(p.seed),
    count: String(p.count),
    steps: String(p.steps),
    sampler: PLAYGROUND_SAMPLERS.find((s) => s.value === p.sampler)?.value ?? DEFAULT_SETTINGS.sampler,
    eta: String(p.eta),
    guidance: p.guidance == null ? '' : String(p.guidance),
    label: p.label ?? '',
    temperature: p.temperature == null ? DEFAULT_TEMPERATURE : String(p.temperature),
  };
}
