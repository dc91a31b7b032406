import type { RunEvaluationsQuery } from '../../graphql/operations/run-detail';
import type { ResultOf } from '../../graphql/tada';

// The compare view's Evaluations table, as data: rows of (run, published version, evaluation), grouped so that
// only numbers measured the same way (one comparableKey) sit together.

export type RunEvaluations = ResultOf<typeof RunEvaluationsQuery>['run'];
export type Version = RunEvaluations['publishedModelVersions'][number];
export type Evaluation = Version['evaluations'][number];

/** One row of the table: an evaluation of a version published from a run, with the run's own numbers. */
export interface EvaluationRow {
  run: Pick<RunEvaluations, 'id' | 'name'>;
  architecture: string;
  version: Pick<Version, 'id' | 'number' | 'step' | 'model'>;
  evaluation: Evaluation;
  heldOutBitsPerDim: number | null;
  imagesPerSec: number | null;
}

/** Rows that may be compared: the same comparableKey (extractor, sample count, reference data, sampler settings…). */
export interface EvaluationGroup {
  key: string;
  rows: EvaluationRow[];
}

const lastOf = (run: RunEvaluations, key: string): number | null =>
  run.metrics.find((m) => m.key === key)?.points.at(-1)?.last ?? null;

/** Every (run, version, evaluation) of the runs, grouped by comparableKey; groups with more runs first. */
export function evaluationGroups(runs: readonly RunEvaluations[]): EvaluationGroup[] {
  const groups = new Map<string, EvaluationRow[]>();
  for (const run of runs) {
    const heldOutBitsPerDim = lastOf(run, 'held_out_bits_per_dim');
    const imagesPerSec = lastOf(run, 'images_per_sec');
    for (const version of run.publishedModelVersions)
      for (const evaluation of version.evaluations) {
        const row = {
          run: { id: run.id, name: run.name },
          architecture: version.architecture,
          version,
          evaluation,
          heldOutBitsPerDim,
          imagesPerSec,
        };
        groups.set(evaluation.comparableKey, [...(groups.get(evaluation.comparableKey) ?? []), row]);
      }
  }
  const runsIn = (rows: EvaluationRow[]) => new Set(rows.map((r) => r.run.id)).size;
  return [...groups]
    .map(([key, rows]) => ({ key, rows }))
    .sort((a, b) => runsIn(b.rows) - runsIn(a.rows) || b.rows.length - a.rows.length);
}
