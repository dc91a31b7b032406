import type { ReactNode } from 'react';
import Link from 'next/link';
import type { RunDetail } from '../../graphql/operations/run-detail';
import { enumText } from '../../lib/enum-text';
import { conditioningText, optimizerText } from './config-facts';
import styles from './runs.module.css';

export type DatasetVersionInfo = {
  id: string;
  number: number;
  contentHash: string | null;
  acceptedCount: number;
  labels: { id: number; label: string }[];
} | null;

/** The stored config keeps only what the user changed from the preset: say so, rather than show unknowns. */
function describeModel(preset: string, model: Record<string, unknown>): string {
  const overrides = Object.entries(model).filter(([, v]) => v !== null && v !== undefined);
  if (overrides.length === 0) return `${preset} preset as is`;
  return `${preset} preset with ${overrides.map(([k, v]) => `${k} ${Array.isArray(v) ? v.join('-') : String(v)}`).join(', ')}`;
}

/** What it takes to reproduce the run: seed, exact dataset version and hash, preset, the whole config. */
export function ReproInfo({
  run,
  dataset,
  teamSlug,
}: {
  run: RunDetail;
  dataset: DatasetVersionInfo;
  teamSlug: string;
}) {
  const rows: [string, ReactNode][] = [
    ['Seed', <span className="mono">{run.seed}</span>],
    ['Preset', enumText(run.config.preset)],
    [
      'Dataset version',
      dataset ? (
        <>
          v{dataset.number} · {dataset.acceptedCount.toLocaleString('en')} images
        </>
      ) : run.datasetVersionId ? (
        <span className="mono">{run.datasetVersionId}</span>
      ) : (
        '—'
      ),
    ],
    [
      'Dataset content hash',
      dataset?.contentHash ? (
        <span className="mono" data-testid="dataset-hash">
          {dataset.contentHash}
        </span>
      ) : (
        '—'
      ),
    ],
    ['Steps × batch', `${run.config.steps.toLocaleString('en')} × ${run.config.batchSize}`],
    ['Optimizer', optimizerText(run.config)],
    run.config.json.architecture === 'glow'
      ? ['Flow', `Glow, EMA ${run.config.emaDecay}`]
      : [
          'Diffusion',
          `${run.config.timesteps} steps, ${enumText(run.config.schedule)} schedule, ${enumText(run.config.prediction)} prediction, EMA ${run.config.emaDecay}`,
        ],
    ['Model', describeModel(enumText(run.config.preset), run.config.model)],
    ['Conditioning', conditioningText(run.config)],
    ['Executor', run.executor ?? '—'],
  ];
  if (run.baseModelVersionId) {
    const base = run.baseModelVersion;
    rows.push([
      'Fine-tuned from',
      base ? (
        <Link href={`/t/${teamSlug}/models/${base.model.id}?v=${base.number}`} data-testid="base-model-version">
          {base.model.name} v{base.number}
        </Link>
      ) : (
        // Deleted since, or no longer readable by you: the id is still the record.
        <span className="mono">{run.baseModelVersionId}</span>
      ),
    ]);
  }
  if (run.parentRunId) {
    rows.push([
      'Forked from',
      <>
        <Link href={`/t/${teamSlug}/runs/${run.parentRunId}`}>parent run</Link> at step {run.fromStep ?? '?'}
      </>,
    ]);
  }
  return (
    <section className="card" aria-labelledby="config-heading">
      <div className="card-header">
        <h2 id="config-heading">Config and reproducibility</h2>
      </div>
      <div className="card-body">
        <dl className={styles.facts}>
          {rows.map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
        <details className={styles.configJson}>
          <summary>Full config (JSON)</summary>
          <pre className={styles.logs}>{JSON.stringify(run.config.json, null, 2)}</pre>
        </details>
      </div>
    </section>
  );
}
