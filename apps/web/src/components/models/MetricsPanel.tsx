import type { ComparableEvaluationsQuery } from '../../graphql/operations/models';
import type { ResultOf } from '../../graphql/tada';
import { byChartOrder, metricName } from '../../lib/metric-groups';
import { DeleteEvaluationButton } from './DeleteEvaluationButton';
import { formatMetric } from './format';
import styles from './models.module.css';

type Group = ResultOf<typeof ComparableEvaluationsQuery>['comparableEvaluations'][number];
type MeanStd = { mean: number; std: number } | null | undefined;

function meanStd(value: MeanStd): string {
  return value ? `${formatMetric(value.mean)} ± ${formatMetric(value.std)}` : '—';
}

const percent = (v: number | null | undefined) => (v == null || !Number.isFinite(v) ? '—' : `${Math.round(v * 100)} %`);

type Row = Group['evaluations'][number];

/** Overall accuracy of conditional samples, then each class's (title: counts), against chance. */
function SampleAccuracyCell({ e }: { e: Row }) {
  const a = e.sampleAccuracy;
  if (!a) return <>—</>;
  return (
    <>
      <strong>{percent(a.accuracy)}</strong> <span className="muted">(chance {percent(a.chance)})</span>
      <div className="muted" data-testid="per-class-accuracy">
        {/* Each class's name and number wrap as one (in the narrow column they were split across lines). */}
        {a.perClass.map((c) => (
          <span key={c.label} title={`${c.count} samples`} className={styles.perClass}>
            {c.name} {percent(c.accuracy)}
          </span>
        ))}
      </div>
    </>
  );
}

/**
 * KID / FID / IS, accuracy of samples and dataset IS, one table per comparable group (same extractor, sample
 * count, reference data, sampler settings, label set and classifier):
 * numbers measured differently never share a table, so they cannot be read as comparable.
 */
export function EvaluationGroups({
  groups,
  versionNumbers,
}: {
  groups: readonly Group[];
  versionNumbers: ReadonlyMap<string, number>;
}) {
  if (groups.length === 0) {
    return (
      <p className="card-body muted">
        No finished evaluations yet. Evaluate a version against a dataset to measure KID, FID and IS.
      </p>
    );
  }
  return (
    // minmax(0, 1fr): a grid item is as wide as its content by default, and the tables' own scroll box (tableWrap)
    // never scrolled: on a phone the page itself did, 340 px sideways.
    <div className="card-body" style={{ display: 'grid', gap: 20, gridTemplateColumns: 'minmax(0, 1fr)' }}>
      {groups.map((group) => {
        const first = group.evaluations[0];
        const deletable = group.evaluations.some((e) => e.viewerCanDelete);
        const headingId = `eval-${group.comparableKey.replace(/[^a-z0-9]+/gi, '-')}`;
        return (
          <div key={group.comparableKey} data-testid="evaluation-group">
            <h3 id={headingId} className={styles.groupHeading}>
              {group.extractor} · {group.numSamples.toLocaleString('en')} samples
              {first?.datasetVersionHash ? (
                <span className="muted"> · reference data {first.datasetVersionHash.slice(0, 12)}</span>
              ) : null}
            </h3>
            <p className="muted">
              {first?.paperComparable
                ? 'InceptionV3 features: FID and IS may be set beside published numbers with the same sample count.'
                : 'Comparable only within this table (built-in extractor, not to be compared with published numbers).'}
              {first?.classifier
                ? ` Accuracy and dataset IS by the dataset's own classifier (${percent(first.classifier.heldOutAccuracy)} on held-out real images: the ceiling).`
                : ''}
            </p>
            <div className={styles.tableWrap}>
              <table className={styles.table} aria-labelledby={headingId}>
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">KID (mean ± std)</th>
                    <th scope="col">FID</th>
                    <th scope="col">IS</th>
                    <th scope="col">IS of real data</th>
                    <th scope="col">Accuracy of samples</th>
                    <th scope="col">Dataset IS (real)</th>
                    <th scope="col">Sampler</th>
                    {deletable ? (
                      <th scope="col">
                        <span className="visually-hidden">Delete</span>
                      </th>
                    ) : null}
                  </tr>
                </thead>
                <tbody>
                  {group.evaluations.map((e) => (
                    <tr key={e.id}>
                      <td>v{versionNumbers.get(e.modelVersionId) ?? '?'}</td>
                      <td className="num">
                        {e.kid && e.kidSubsetsDiffer === false ? `${formatMetric(e.kid.mean)} ± n/a` : meanStd(e.kid)}
                      </td>
                      <td className="num">{formatMetric(e.fid)}</td>
                      <td className="num">{meanStd(e.inceptionScore)}</td>
                      <td className="num">{meanStd(e.realInceptionScore)}</td>
                      <td>
                        <SampleAccuracyCell e={e} />
                      </td>
                      <td className="num">
                        {meanStd(e.datasetInceptionScore)}
                        {e.realDatasetInceptionScore ? (
                          <span className="muted"> ({formatMetric(e.realDatasetInceptionScore.mean)})</span>
                        ) : null}
                      </td>
                      <td>
                        {e.sampler.toUpperCase()} · {e.steps} steps
                        {e.eta ? ` · η ${e.eta}` : ''}
                        {e.guidance != null ? ` · guidance ${e.guidance}` : ''} ·{' '}
                        {e.labelSet === 'unconditional' ? 'unconditional' : `all labels (${e.labelSet.slice(4, -1)})`}
                      </td>
                      {deletable ? (
                        <td>
                          {e.viewerCanDelete ? (
                            <DeleteEvaluationButton
                              id={e.id}
                              what={`the evaluation of v${versionNumbers.get(e.modelVersionId) ?? '?'} (${e.numSamples} samples)`}
                            />
                          ) : null}
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        );
      })}
    </div>
  );
}

/**
 * A metric key that may break after each `_`, `/`, `.` or `-`: in a narrow column `worker_images_per_sec` wraps
 * between its words instead of widening the table past the card (it scrolled sideways in the 320 px column).
 */
function wrappableKey(key: string): React.ReactNode[] {
  return key.split(/(?<=[_/.-])/).flatMap((part, i) => (i === 0 ? [part] : [<wbr key={i} />, part]));
}

/**
 * The training metrics captured when the version was published: the last value and the mean over the 100 steps
 * before the checkpoint at `step`, in the run page's chart order, each by its chart's name over the key that the API
 * and `dapple metrics` use. The card sits in a narrow column, so there is no step column: a value last
 * reported before `step` (system metrics are reported less often than the loss) says where, on a line under it.
 */
export function TrainingMetrics({
  step,
  metrics,
}: {
  step: number;
  metrics: readonly { key: string; last?: number | null; mean?: number | null; step?: number | null }[];
}) {
  if (metrics.length === 0)
    return <p className="card-body muted">No training metrics were recorded for this version.</p>;
  return (
    <div className={`card-body ${styles.tableWrap}`}>
      <table className={`${styles.table} ${styles.metricsTable}`}>
        <caption className="visually-hidden">Training metrics at publish time</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col">Last</th>
            <th scope="col">Mean (100)</th>
          </tr>
        </thead>
        <tbody>
          {[...metrics]
            .sort((a, b) => byChartOrder(a.key, b.key))
            .map((m) => {
              const name = metricName(m.key);
              return (
                <tr key={m.key} data-testid={`training-metric-${m.key}`}>
                  <td>
                    {name}
                    <span className={`mono ${styles.metricKey}${name ? ' muted' : ''}`}>{wrappableKey(m.key)}</span>
                  </td>
                  <td className="num">
                    {formatMetric(m.last)}
                    {m.step != null && m.step !== step ? (
                      <span className={`muted ${styles.metricStep}`}> at step {m.step.toLocaleString('en')}</span>
                    ) : null}
                  </td>
                  <td className="num">{formatMetric(m.mean)}</td>
                </tr>
              );
            })}
        </tbody>
      </table>
      <p className={`muted ${styles.tableNote}`}>
        Last: the value at step {step.toLocaleString('en')}, or at the step shown when the metric was last reported
        before it. Mean (100): over the last 100 steps.
      </p>
    </div>
  );
}
