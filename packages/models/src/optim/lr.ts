/** Learning-rate schedule: linear warmup from 0, then constant or cosine decay to minLr at totalSteps. */
export interface LrSchedule {
  base: number;
  warmupSteps?: number;
  decay?: 'constant' | 'cosine';
  /** Required for cosine decay. */
  totalSteps?: number;
  /** Floor of the cosine decay (default 0). */
  minLr?: number;
}

export function validateLrSchedule(s: LrSchedule): void {
  if (!(s.base > 0 && Number.isFinite(s.base)))
    throw new RangeError(`lr.base must be a positive number, got ${s.base}`);
  if (s.warmupSteps !== undefined && !(Number.isInteger(s.warmupSteps) && s.warmupSteps >= 0)) {
    throw new RangeError(`lr.warmupSteps must be an integer ≥ 0, got ${s.warmupSteps}`);
  }
  if (
    (s.decay ?? 'constant') === 'cosine' &&
    !(Number.isInteger(s.totalSteps) && s.totalSteps! > (s.warmupSteps ?? 0))
  ) {
    throw new RangeError(`lr.totalSteps must be an integer > warmupSteps for cosine decay, got ${s.totalSteps}`);
  }
}

/** Learning rate for the update with 0-based index `step`. */
export function learningRateAt(s: LrSchedule, step: number): number {
  const warmup = s.warmupSteps ?? 0;
  if (step < warmup) return (s.base * (step + 1)) / warmup;
  if ((s.decay ?? 'constant') === 'constant') return s.base;
  const total = s.totalSteps!;
  const minLr = s.minLr ?? 0;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return minLr + 0.5 * (s.base - minLr) * (1 + Math.cos(Math.PI * progress));
}
