import { enumText } from '../../lib/enum-text';

// How the run page's "Config and reproducibility" card words the config's facts.

export interface OptimizerConfig {
  optimizer: string;
  lr: number;
  lrDecay: string;
  warmupSteps: number;
  clipNorm: number;
}

/**
 * The run's optimizer as its page states it: the learning rate's whole schedule (a warm-up changes what the
 * learning-rate chart shows in the first steps, so "constant" alone would contradict it) and the gradient clipping.
 */
export function optimizerText(c: OptimizerConfig): string {
  const decay = c.lrDecay === 'COSINE' ? 'cosine decay' : enumText(c.lrDecay);
  const schedule = c.warmupSteps > 0 ? `${decay} after a ${c.warmupSteps.toLocaleString('en')}-step warm-up` : decay;
  return `${enumText(c.optimizer)}, lr ${c.lr} (${schedule}), gradients clipped at norm ${c.clipNorm}`;
}

export interface ConditioningConfig {
  conditioning: string;
  numClasses: number | null;
  /** null where the model family has none (Glow). */
  labelDropout: number | null;
}

export function conditioningText(c: ConditioningConfig): string {
  if (c.conditioning !== 'CLASS') return 'unconditional';
  const classes = `${c.numClasses ?? '?'} classes (dataset labels)`;
  return c.labelDropout === null ? classes : `${classes}, label dropout ${c.labelDropout}`;
}
