'use client';

import { useId, useMemo, useState } from 'react';
import { ComparedRunFeed, CompareRunsPicker, useComparedRuns, type RunOption } from './CompareRuns';
import { LiveMetricsFeed } from './LiveMetricsFeed';
import { CHART_KEYS, visibleGroups } from '../../lib/metric-groups';
import { formatMetric } from './run-status';
import { RunChart } from './RunChart';
import { useRunMetrics } from './use-run-metrics';
import type { ChartLine } from './use-zoomed-lines';
import styles from './runs.module.css';

/**
 * The run's charts: one metrics query (downsampled), then live points from runMetrics appended in place.
 * Smoothing and the log scale are applied in the browser; other runs can be overlaid on the loss, bits/dim and
 * images/s charts (a Glow and a DDPM run compare on held-out bits/dim), and those still reporting update live too. Each chart zooms with finer points (RunChart).
 */
export function MetricsPanel({
  runId,
  runName,
  teamId,
  metricKeys,
  live,
  compared,
  onCompareChange,
}: {
  runId: string;
  runName: string;
  teamId: string;
  metricKeys: readonly string[];
  live: boolean;
  /** Runs picked for comparison: owned by the run page, which also shows their sample grids. */
  compared: RunOption[];
  onCompareChange: (runs: RunOption[]) => void;
}) {
  const { state, append, retry } = useRunMetrics(runId, CHART_KEYS);
  const [smoothing, setSmoothing] = useState(0.6);
  const [logScale, setLogScale] = useState(false);
  const comparedRuns = useComparedRuns(compared);
  const smoothingId = useId();

  const loaded = state.kind === 'ready' ? state.series : null;
  // Keys with points so far (loaded or arrived live); before the first load, the run's own list.
  const groups = useMemo(
    () =>
      visibleGroups(loaded ? [...loaded.values()].filter((s) => s.steps.length > 0).map((s) => s.label) : metricKeys),
    [metricKeys, loaded],
  );

  return (
    <section className="card" aria-labelledby="metrics-heading">
      <div className="card-header">
        <h2 id="metrics-heading">Metrics</h2>
        {state.kind === 'ready' && live ? (
          <LiveMetricsFeed runId={runId} keys={CHART_KEYS} sinceStep={state.lastStep} onPoints={append} />
        ) : null}
        {comparedRuns.compared.map((run) =>
          run.live ? (
            <ComparedRunFeed
              key={run.id}
              runId={run.id}
              sinceStep={run.lastStep}
              onPoints={comparedRuns.append}
              onFinished={comparedRuns.finished}
            />
          ) : null,
        )}
      </div>
      <div className="card-body">
        <div className={styles.chartControls}>
          <label className={styles.control} htmlFor={smoothingId}>
            Smoothing
            <input
              id={smoothingId}
              type="range"
              min={0}
              max={0.99}
              step={0.01}
              value={smoothing}
              onChange={(e) => setSmoothing(Number(e.target.value))}
              aria-valuetext={smoothing.toFixed(2)}
            />
            <span className="mono">{smoothing.toFixed(2)}</span>
          </label>
          <label className={styles.control}>
            <input type="checkbox" checked={logScale} onChange={(e) => setLogScale(e.target.checked)} />
            Log scale
          </label>
          <CompareRunsPicker teamId={teamId} excludeRunId={runId} selected={compared} onChange={onCompareChange} />
        </div>
        {state.kind === 'loading' ? (
          <div className={styles.chartGrid} aria-busy="true">
            {[0, 1].map((i) => (
              <div key={i} className="skeleton" style={{ height: 240 }} />
            ))}
          </div>
        ) : state.kind === 'error' ? (
          <div className="alert alert-error" role="alert">
            {state.message}{' '}
            <button type="button" className="btn btn-secondary btn-sm" onClick={retry}>
              Try again
            </button>
          </div>
        ) : (
          <div className={styles.chartGrid}>
            {groups.map((group) => {
              const own: ChartLine[] = group.keys.flatMap((key) => {
                const s = state.series.get(key);
                return s && s.steps.length > 0
                  ? [
                      {
                        runId,
                        key,
                        series: { ...s, label: group.keys.length > 1 ? (group.labels?.[key] ?? key) : runName },
                      },
                    ]
                  : [];
              });
              const compareKey = group.compare;
              const others: ChartLine[] = compareKey
                ? comparedRuns.compared.flatMap((run) => {
                    const series = run.series.get(compareKey);
                    return series && series.steps.length > 0 ? [{ runId: run.id, key: compareKey, series }] : [];
                  })
                : [];
              return (
                <RunChart
                  key={group.title}
                  title={group.title}
                  lines={[...own, ...others]}
                  smoothing={group.title.startsWith('Loss') ? smoothing : 0}
                  logScale={logScale}
                  formatValue={formatMetric}
                  emptyText={
                    live ? 'Waiting for the trainer’s first report…' : 'This run reported no values for this chart.'
                  }
                />
              );
            })}
            {comparedRuns.error ? (
              <p className="field-error" role="alert">
                {comparedRuns.error}
              </p>
            ) : null}
          </div>
        )}
      </div>
    </section>
  );
}
