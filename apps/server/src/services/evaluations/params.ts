import type { Evaluation, EvaluationPhase } from '@dapple/db';
import type { SamplerKind } from '@dapple/models/config';

export type ExtractorKind = 'pretrained' | 'offline' | 'inception';

/** Stored in evaluations.params (rows written before a field existed lack it: readers default it). */
export interface EvaluationParams {
  steps: number;
  sampler: SamplerKind;
  eta: number;
  seed: number;
  extractorKind: ExtractorKind;
  /** The team whose fair-queue share the evaluation uses. */
  quotaTeamId: string;
  /** Classifier-free guidance of a conditional model's samples; null/absent = unguided. */
  guidance?: number | null;
  /** The model's class ids sampled (evenly); [] or absent = the unconditional label only. */
  labels?: number[];
  /** Their names (the model version's labelNames). */
  labelNames?: string[];
  /** Which dataset classifier (version and training budget) measures accuracy and dataset IS; absent = none. */
  classifierId?: string;
  paperComparable?: boolean;
  kidSubsetSize?: number;
  kidSubsets?: number;
  kidSubsetsDiffer?: boolean;
  isSplits?: number;
  realIsMean?: number;
  realIsStd?: number;
  /** Filled in when it ran with a classifier. */
  classifier?: { name: string; heldOutAccuracy: number; objectKey: string; reused: boolean };
  datasetIs?: { mean: number; std: number };
  realDatasetIs?: { mean: number; std: number };
  sampleAccuracy?: {
    accuracy: number;
    chance: number;
    perClass: { label: number; name: string; count: number; correct: number; accuracy: number }[];
  } | null;
  /** When each phase of a finished evaluation began (ISO times, in order): where its time went. */
  phases?: { phase: EvaluationPhase; startedAt: string }[];
}

export const evaluationParams = (e: Pick<Evaluation, 'params'>) => e.params as unknown as EvaluationParams;

/** `unconditional` or `all(K)`: which labels the samples were drawn for. */
export function labelSet(p: EvaluationParams): string {
  return p.labels && p.labels.length > 0 ? `all(${p.labels.length})` : 'unconditional';
}

/**
 * Numbers are comparable only with the same extractor, sample count and reference data, and samples made
 * the same way (sampler, steps, η, guidance, label set) and read by the same dataset classifier: rows
 * that share this key may be put side by side, others never (DDIM-50 and DDPM-100 of one checkpoint
 * differed 16× in KID). The seed is left out: another seed is another fair draw of the same thing.
 */
export function comparableKey(
  e: Pick<Evaluation, 'extractor' | 'numSamples' | 'datasetVersionHash' | 'datasetVersionId' | 'params'>,
): string {
  const p = evaluationParams(e);
  return [
    e.extractor,
    `n=${e.numSamples}`,
    `data=${e.datasetVersionHash ?? e.datasetVersionId ?? 'unknown'}`,
    `sampler=${p.sampler}`,
    `steps=${p.steps}`,
    `eta=${p.eta}`,
    `guidance=${p.guidance ?? 'none'}`,
    `labels=${labelSet(p)}`,
    `classifier=${p.classifierId ?? 'none'}`,
  ].join('|');
}
