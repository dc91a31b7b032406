'use client';

import Link from 'next/link';
import { useEffect, useState } from 'react';
import { RunEvaluationsQuery } from '../../graphql/operations/run-detail';
import { request } from '../../lib/graphql';
import { formatMetric as formatNumber } from '../models/format';
import type { RunOption } from './CompareRuns';
import { evaluationGroups, type Evaluation, type RunEvaluations } from './evaluation-groups';
import { RunTable } from './RunTable';
import styles from './runs.module.css';

const COLUMNS = [
  'Run',
  'Architecture',
  'Version',
  'KID (mean ± std)',
  'FID',
  'Sample accuracy',
  'Held-out bits/dim',
  'Images/s',
];

/** The compared runs' evaluations, each run read once when it joins the comparison. */
function useRunEvaluations(runs: readonly RunOption[]) {
  const [loaded, setLoaded] = useState<Record<string, RunEvaluations>>({});
  const [error, setError] = useState<string | null>(null);
  const ids = runs.map((r) => r.id).join(',');
  useEffect(() => {
    let current = true;
    for (const id of ids ? ids.split(',') : []) {
      if (loaded[id]) continue;
      void request(RunEvaluationsQuery, { id }).then((result) => {
        if (!current) return;
        if (!result.ok) return setError(result.errors[0]?.message ?? 'Could not load a compared run’s evaluations');
        setLoaded((all) => ({ ...all, [id]: result.data.run }));
      });
    }
    return () => {
      current = false;
    };
    // `ids` stands for the runs; `loaded` is read to skip runs already there, not a dependency.
  }, [ids]);
  const ready = runs.flatMap((r) => (loaded[r.id] ? [loaded[r.id]!] : []));
  return { runs: ready, loading: ready.length < runs.length && !error, error };
}

const percent = (v: number | null | undefined) => (v == null || !Number.isFinite(v) ? '—' : `${Math.round(v * 100)} %`);

/** "extractor · n samples · reference data · how the DDPM samples were drawn" of a group. */
function groupTitle(e: Evaluation): string {
  const sampler = `${e.sampler} · ${e.steps} steps${e.eta ? ` · η ${e.eta}` : ''}${e.guidance != null ? ` · guidance ${e.guidance}` : ''}`;
  return [
    e.extractor.split('(')[0],
    `${e.numSamples.toLocaleString('en')} samples`,
    e.datasetVersionHash ? `reference data ${e.datasetVersionHash.slice(0, 12)}` : null,
    `DDPM sampler ${sampler}`,
    e.labelSet === 'unconditional' ? 'unconditional' : `all labels (${e.labelSet.slice(4, -1)})`,
  ]
    .filter(Boolean)
    .join(' · ');
}

/**
 * The compare view's Evaluations table: KID, FID and sample accuracy of the model versions published from the
 * page's run and the compared runs, beside each run's last held-out bits/dim and images/s. Rows are grouped by
 * comparableKey: numbers measured another way (extractor, sample count, reference data, sampler settings) sit in
 * another table, marked as not comparable.
 */
export function CompareEvaluations({ runs, teamSlug }: { runs: readonly RunOption[]; teamSlug: string }) {
  const loaded = useRunEvaluations(runs);
  const groups = evaluationGroups(loaded.runs);
  return (
    <section
      className={`card ${styles.evaluations}`}
      aria-labelledby="compare-evaluations-heading"
      data-testid="compare-evaluations"
    >
      <div className="card-header">
        <h2 id="compare-evaluations-heading">Evaluations</h2>
      </div>
      <div className="card-body">
        {loaded.error ? (
          <p className="field-error" role="alert">
            {loaded.error}
          </p>
        ) : loaded.loading ? (
          <p className="muted" aria-busy="true">
            Loading evaluations…
          </p>
        ) : groups.length === 0 ? (
          <p className="muted" data-testid="compare-evaluations-empty">
            No run in this comparison has an evaluated model version yet. To compare them on KID: publish a checkpoint
            of each run (Checkpoints → Publish), then press Evaluate on each model’s page with the same reference
            dataset, sample count and feature extractor.
          </p>
        ) : (
          <>
            <p className="muted">
              KID and FID: lower is better. Numbers sit in one table only when they were measured the same way (same
              feature extractor, sample count, reference data and sampler settings; a Glow samples in one pass and
              ignores the sampler).
              {groups.length > 1
                ? ' Different tables mean different settings — not comparable: evaluate the runs’ versions with the same settings to set them side by side.'
                : ''}
            </p>
            {groups.map((group, i) => (
              <div key={group.key} data-testid="evaluation-compare-group" data-key={group.key}>
                <h3 className={styles.evaluationGroupTitle}>
                  {group.rows[0] ? groupTitle(group.rows[0].evaluation) : group.key}
                  {i > 0 ? (
                    <span className="muted"> — different settings, not comparable with the table above</span>
                  ) : null}
                </h3>
                <RunTable columns={COLUMNS}>
                  {group.rows.map((row) => {
                    const e = row.evaluation;
                    return (
                      <tr
                        key={e.id}
                        data-testid="evaluation-compare-row"
                        data-run={row.run.name}
                        data-architecture={row.architecture}
                        data-kid={e.kid?.mean ?? ''}
                      >
                        <td>{row.run.name}</td>
                        <td>{row.architecture === 'GLOW' ? 'Glow' : 'DDPM'}</td>
                        <td>
                          <Link href={`/t/${teamSlug}/models/${row.version.model.id}`}>
                            {row.version.model.name} v{row.version.number}
                          </Link>{' '}
                          <span className="muted">· step {row.version.step.toLocaleString('en')}</span>
                        </td>
                        <td className="mono">
                          {e.kid
                            ? `${formatNumber(e.kid.mean)} ± ${e.kidSubsetsDiffer === false ? 'n/a' : formatNumber(e.kid.std)}`
                            : '—'}
                        </td>
                        <td className="mono">{formatNumber(e.fid)}</td>
                        <td>
                          {e.sampleAccuracy ? (
                            <>
                              {percent(e.sampleAccuracy.accuracy)}{' '}
                              <span className="muted">(chance {percent(e.sampleAccuracy.chance)})</span>
                            </>
                          ) : (
                            '—'
                          )}
                        </td>
                        <td className="mono">{formatNumber(row.heldOutBitsPerDim)}</td>
                        <td className="mono">{formatNumber(row.imagesPerSec)}</td>
                      </tr>
                    );
                  })}
                </RunTable>
              </div>
            ))}
            <p className="muted">
              Held-out bits/dim and images/s are the runs’ last reported values (the whole run, not the evaluated step).
            </p>
          </>
        )}
      </div>
    </section>
  );
}
