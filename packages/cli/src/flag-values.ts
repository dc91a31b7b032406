import { UsageError } from './errors.ts';

export type Flags = Record<string, string | boolean | string[] | undefined>;

/** A string flag's value, or undefined when it was not given. */
export const str = (v: Flags[string]): string | undefined => (typeof v === 'string' ? v : undefined);

/** --name as a whole number in [min, max], or undefined when not given; anything else is refused naming the flag. */
export function intFlag(flags: Flags, name: string, min: number, max: number): number | undefined {
  const v = str(flags[name]);
  if (v === undefined) return undefined;
  if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new UsageError(`--${name}: "${v}" is not a whole number from ${min} to ${max}`);
  return Number(v);
}

/** --name as a finite number, or undefined when not given (the hub checks its range and names the field). */
export function floatFlag(flags: Flags, name: string): number | undefined {
  const v = str(flags[name]);
  if (v === undefined) return undefined;
  if (v.trim() === '' || !Number.isFinite(Number(v))) throw new UsageError(`--${name}: "${v}" is not a number`);
  return Number(v);
}

/** The samplers the hub takes, as flags spell them (the API's enum in lower case with dashes). */
export const SAMPLER_FLAGS = ['ddim', 'ddpm', 'dpmpp-2m', 'dpmpp-2m-sde'];

/** --sampler checked against SAMPLER_FLAGS, lower-cased, or undefined when not given. */
export function samplerFlag(flags: Flags): string | undefined {
  const sampler = str(flags.sampler)?.toLowerCase();
  if (sampler !== undefined && !SAMPLER_FLAGS.includes(sampler))
    throw new UsageError(`--sampler: "${String(flags.sampler)}" is not one of ${SAMPLER_FLAGS.join(', ')}`);
  return sampler;
}
