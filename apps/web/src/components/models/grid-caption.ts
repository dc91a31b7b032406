import { MAX_GRID_CLASSES } from '../../lib/grid-layout';
import { samplerLabel } from './sampling-form';

/**
 * What a version's sample grid (the run's, nearest the published step) shows, in a sentence or two, from the
 * training config in the version's config.json: the class of each row for a class-conditional run (the trainer
 * draws one row per class, the first MAX_GRID_CLASSES; a Glow grid repeats them in one block per temperature), how
 * it was sampled and the seed. Null when the config says none of it (older versions, or a config this page cannot
 * read): the page then shows the bare grid rather than guess.
 */
export function gridCaption(configJson: string, labelNames: readonly string[]): string | null {
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
  const rows = conditional ? labelNames.slice(0, MAX_GRID_CLASSES).join(', ') : null;
  const sentences: string[] = [];
  const sampling: string[] = [];
  if (training.architecture === 'glow') {
    const temperatures = Array.isArray(training.sampleTemperatures)
      ? training.sampleTemperatures.map(num).filter((t): t is number => t !== null)
      : [];
    if (temperatures.length > 1) {
      sentences.push(
        `One block per temperature, top to bottom: ${temperatures.join(', ')}${rows ? `; in each, rows ${rows}` : ''}.`,
      );
    } else {
      if (rows) sentences.push(`Rows, top to bottom: ${rows}.`);
      if (temperatures.length === 1) sampling.push(`temperature ${temperatures[0]}`);
    }
  } else {
    if (rows) sentences.push(`Rows, top to bottom: ${rows}.`);
    const sampler = typeof training.sampleSampler === 'string' ? training.sampleSampler : null;
    const steps = num(training.sampleSteps);
    const guidance = num(training.sampleGuidance);
    // The config spells samplers as the trainer does (dpmpp-2m-sde); the page names them as the playground does.
    if (sampler) sampling.push(samplerLabel(sampler.toUpperCase().replaceAll('-', '_')));
    if (steps !== null) sampling.push(`${steps} steps`);
    if (conditional && guidance !== null) sampling.push(`guidance ${guidance}`);
  }
  const seed = num(training.sampleSeed);
  if (seed !== null) sampling.push(`seed ${seed}`);
  if (sampling.length) sentences.push(`Drawn with ${sampling.join(' · ')}.`);
  return sentences.length ? sentences.join(' ') : null;
}
