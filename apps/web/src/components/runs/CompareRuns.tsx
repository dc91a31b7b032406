'use client';

import { useCallback, useEffect, useRef, useState } from 'react';
import { CompareRunsQuery, RunMetricsLiveSubscription, RunMetricsQuery } from '../../graphql/operations/run-detail';
import { ComparedRunStatusSubscription } from '../../graphql/operations/runs-live';
import { request } from '../../lib/graphql';
import { useSubscription } from '../../lib/subscriptions';
import { appendPoints, capPoints, type Series } from '../charts/series';
import { COMPARE_KEYS } from '../../lib/metric-groups';
import { isLive, type RunStatus } from './run-status';
import { MAX_POINTS } from './use-run-metrics';
import styles from './runs.module.css';

export type RunOption = { id: string; name: string; status: string };

/** Checkboxes of the team's other runs (newest 50), loaded when opened. */
export function CompareRunsPicker({
  teamId,
  excludeRunId,
  selected,
  onChange,
}: {
  teamId: string;
  excludeRunId: string;
  selected: RunOption[];
  onChange: (runs: RunOption[]) => void;
}) {
  const [open, setOpen] = useState(false);
  const [runs, setRuns] = useState<RunOption[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!open || runs) return;
    void request(CompareRunsQuery, { teamId }).then((result) => {
      if (result.ok) setRuns(result.data.runs.nodes.filter((r) => r.id !== excludeRunId));
      else setError(result.errors[0]?.message ?? 'Could not list the team’s runs');
    });
  }, [open, runs, teamId, excludeRunId]);

  return (
    <details className={styles.compare} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary className="btn btn-secondary btn-sm">
        Compare{selected.length > 0 ? ` (${selected.length})` : ''}
      </summary>
      <div className={styles.comparePanel}>
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : !runs ? (
          <p className="muted">Loading runs…</p>
        ) : runs.length === 0 ? (
          <p className="muted">No other runs in this team yet.</p>
        ) : (
          <fieldset>
            <legend className="visually-hidden">Runs to overlay on the loss, bits/dim and images/s charts</legend>
            {runs.map((r) => (
              <label key={r.id} className={styles.control}>
                <input
                  type="checkbox"
                  checked={selected.some((s) => s.id === r.id)}
                  onChange={(e) =>
                    onChange(e.target.checked ? [...selected, r] : selected.filter((s) => s.id !== r.id))
                  }
                />
                {r.name} <span className="muted">· {r.status.toLowerCase()}</span>
              </label>
            ))}
          </fieldset>
        )}
      </div>
    </details>
  );
}

/**
 * A run overlaid on the compare charts (loss, bits/dim, images/s): its points by key, the last step read, and
 * whether it still reports.
 */
export interface ComparedRun {
  id: string;
  name: string;
  series: ReadonlyMap<string, Series>;
  lastStep: number;
  live: boolean;
}

type MetricPoint = { key: string; step: number; value: number };

/** Reads a run's compared keys (each downsampled to MAX_POINTS buckets), optionally only after a step. */
async function readCompared(
  id: string,
  name: string,
  fromStep?: number,
): Promise<{ series: Map<string, Series>; lastStep: number }> {
  const result = await request(RunMetricsQuery, {
    id,
    keys: COMPARE_KEYS,
    maxPoints: MAX_POINTS,
    ...(fromStep !== undefined ? { fromStep } : {}),
  });
  if (!result.ok) throw new Error(result.errors[0]?.message ?? 'Could not load a compared run');
  const series = new Map<string, Series>();
  let lastStep = -1;
  for (const s of result.data.run.metrics) {
    series.set(s.key, { label: name, steps: s.points.map((p) => p.step), values: s.points.map((p) => p.mean ?? null) });
    for (const p of s.points) lastStep = Math.max(lastStep, p.lastStep ?? p.step);
  }
  return { series, lastStep };
}

/** Points of several keys added to a run's series (each capped). */
function withPoints(
  series: ReadonlyMap<string, Series>,
  name: string,
  points: readonly MetricPoint[],
): Map<string, Series> {
  const next = new Map(series);
  for (const key of new Set(points.map((p) => p.key))) {
    const before = next.get(key) ?? { label: name, steps: [], values: [] };
    next.set(
      key,
      capPoints(
        appendPoints(
          before,
          points.filter((p) => p.key === key),
        ),
        MAX_POINTS * 2,
      ),
    );
  }
  return next;
}

/**
 * The compared runs' loss, labelled with their names. Runs still reporting stay live: the panel mounts a
 * ComparedRunFeed for each (`live`), which hands new points to `append` and calls `finished` once the run
 * stops; a run taken out of the comparison is dropped (and its feed unmounted).
 */
export function useComparedRuns(runs: readonly RunOption[]) {
  const [loaded, setLoaded] = useState<ReadonlyMap<string, ComparedRun>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const key = runs.map((r) => r.id).join(',');

  useEffect(() => {
    const picked = new Set(runs.map((r) => r.id));
    setLoaded((prev) =>
      prev.size === 0 || [...prev.keys()].every((id) => picked.has(id))
        ? prev
        : new Map([...prev].filter(([id]) => picked.has(id))),
    );
    const missing = runs.filter((r) => !loaded.has(r.id));
    if (missing.length === 0) return;
    let current = true;
    void Promise.all(
      missing.map(async ({ id, name, status }): Promise<ComparedRun> => {
        const { series, lastStep } = await readCompared(id, name);
        return { id, name, series, lastStep, live: isLive(status as RunStatus) };
      }),
    ).then(
      (read) => {
        if (!current) return;
        setLoaded((prev) => new Map([...prev, ...read.map((r) => [r.id, r] as const)]));
        setError(null);
      },
      (err: Error) => current && setError(err.message),
    );
    return () => {
      current = false;
    };
    // `key` stands for the picked runs; `loaded` is read to skip runs already there, not a dependency.
  }, [key]);

  const append = useCallback((id: string, points: readonly MetricPoint[]) => {
    const compared = points.filter((p) => COMPARE_KEYS.includes(p.key));
    if (compared.length === 0) return;
    setLoaded((prev) => {
      const run = prev.get(id);
      if (!run) return prev;
      const lastStep = compared.reduce((m, p) => Math.max(m, p.step), run.lastStep);
      return new Map(prev).set(id, { ...run, series: withPoints(run.series, run.name, compared), lastStep });
    });
  }, []);

  const latest = useRef(loaded);
  latest.current = loaded;
  /** The run stopped: stop following it, and read what arrived after the last live batch (its final points). */
  const finished = useCallback(
    (id: string) => {
      const run = latest.current.get(id);
      if (!run?.live) return;
      setLoaded((prev) => {
        const r = prev.get(id);
        return r ? new Map(prev).set(id, { ...r, live: false }) : prev;
      });
      void readCompared(id, run.name, run.lastStep + 1).then(
        (rest) =>
          append(
            id,
            [...rest.series].flatMap(([key, s]) =>
              s.steps.flatMap((step, i) => (s.values[i] == null ? [] : [{ key, step, value: s.values[i] }])),
            ),
          ),
        () => undefined, // the points shown so far stay; the next page load has the rest
      );
    },
    [append],
  );

  const compared = runs.flatMap(({ id }) => {
    const run = loaded.get(id);
    return run ? [run] : [];
  });
  return { compared, error, append, finished };
}

/**
 * Follows one compared run while it reports: new points of the compared keys (runMetrics, after `sinceStep`) and its
 * status (runUpdated, only the status field). Unmounting it ends both subscriptions.
 */
export function ComparedRunFeed({
  runId,
  sinceStep,
  onPoints,
  onFinished,
}: {
  runId: string;
  sinceStep: number;
  onPoints: (runId: string, points: MetricPoint[]) => void;
  onFinished: (runId: string) => void;
}) {
  // Fixed at mount, as in LiveMetricsFeed: later points arrive over this subscription.
  const [since] = useState(sinceStep);
  useSubscription(RunMetricsLiveSubscription, { id: runId, keys: COMPARE_KEYS, sinceStep: since }, (data) =>
    onPoints(runId, data.runMetrics.points),
  );
  useSubscription(ComparedRunStatusSubscription, { id: runId }, (data) => {
    if (!isLive(data.runUpdated.status)) onFinished(runId);
  });
  return null;
}
