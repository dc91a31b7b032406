import { MAX_GRID_CLASSES } from '../runs/grid-layout';
import { samplerLabel } from './sampling-form';

/**
 * What a version's sample grid (the run's, nearest the published step) shows, from the training config in the
 * version's config.json: the class of each row for a class-conditional run (the trainer draws one row per class,
 * the first MAX_GRID_CLASSES; a Glow grid repeats them in one block per temperature), and how it was sampled. Null fields where the config does not say (older versions,
 * or a config this page cannot read): the caption then leaves them out rather than guess.
 */
export interface GridCaption {
  rows: string[] | null;
  seed: number | null;
  sampling: string | null;
}

export function gridCaption(configJson: string, labelNames: readonly string[]): GridCaption {
  let training: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(configJson);
    const t = (parsed as { training?: unknown } | null)?.training;
    if (t && typeof t === 'object') training = t as Record<string, unknown>;
  } catch {
    // not JSON: nothing to say
  }
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const conditional = training.conditioning === 'class' && labelNames.length > 0;
  const rows = conditional ? labelNames.slice(0, MAX_GRID_CLASSES) : null;
  const parts: string[] = [];
  if (training.architecture === 'glow') {
    // One block per temperature, top to bottom, each with the class rows.
    const temperatures = Array.isArray(training.sampleTemperatures)
      ? training.sampleTemperatures.map(num).filter((t): t is number => t !== null)
      : [];
    if (temperatures.length) parts.push(`temperature ${temperatures.join(', then ')} (top to bottom)`);
  } else {
    const sampler = typeof training.sampleSampler === 'string' ? training.sampleSampler : null;
    const steps = num(training.sampleSteps);
    // The config spells samplers as the trainer does (dpmpp-2m-sde); the page names them as the playground does.
    if (sampler) parts.push(samplerLabel(sampler.toUpperCase().replaceAll('-', '_')));
    if (steps !== null) parts.push(`${steps} steps`);
    const guidance = num(training.sampleGuidance);
    if (conditional && guidance !== null) parts.push(`guidance ${guidance}`);
  }
  return { rows, seed: num(training.sampleSeed), sampling: parts.length ? parts.join(' · ') : null };
}
