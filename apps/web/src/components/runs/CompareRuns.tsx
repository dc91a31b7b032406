'use client';

import { useEffect, useState } from 'react';
import { CompareRunsQuery, RunMetricsQuery } from '../../graphql/operations/run-detail';
import { request } from '../../lib/graphql';
import type { Series } from '../charts/series';
import { MAX_POINTS } from './use-run-metrics';
import styles from './runs.module.css';

export type RunOption = { id: string; name: string; status: string };

/** Checkboxes of the team's other runs (newest 50), loaded when opened. */
export function CompareRunsPicker({ teamId, excludeRunId, selected, onChange }: { teamId: string; excludeRunId: string; selected: RunOption[]; onChange: (runs: RunOption[]) => void }) {
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
      <summary className="btn btn-secondary btn-sm">Compare{selected.length > 0 ? ` (${selected.length})` : ''}</summary>
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
            <legend className="visually-hidden">Runs to overlay on the loss chart</legend>
            {runs.map((r) => (
              <label key={r.id} className={styles.control}>
                <input
                  type="checkbox"
                  checked={selected.some((s) => s.id === r.id)}
                  onChange={(e) => onChange(e.target.checked ? [...selected, r] : selected.filter((s) => s.id !== r.id))}
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

/** The loss series of the compared runs, labelled with their names. */
export function useComparedLoss(runs: readonly RunOption[]): { series: Series[]; error: string | null } {
  const [cache, setCache] = useState<Map<string, Series>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const key = runs.map((r) => r.id).join(',');

  useEffect(() => {
    const missing = runs.filter((r) => !cache.has(r.id));
    if (missing.length === 0) return;
    let current = true;
    void Promise.all(
      missing.map(async ({ id, name }) => {
        const result = await request(RunMetricsQuery, { id, keys: ['loss'], maxPoints: MAX_POINTS });
        if (!result.ok) throw new Error(result.errors[0]?.message ?? 'Could not load a compared run');
        const points = result.data.run.metrics[0]?.points ?? [];
        return [id, { label: name, steps: points.map((p) => p.step), values: points.map((p) => p.mean ?? null) }] as const;
      }),
    ).then(
      (loaded) => {
        if (!current) return;
        setCache((prev) => new Map([...prev, ...loaded]));
        setError(null);
      },
      (err: Error) => current && setError(err.message),
    );
    return () => {
      current = false;
    };
    // `key` stands for the picked runs; the cache only grows, so it is read but not a dependency.
  }, [key]);

  const series = runs.flatMap(({ id }) => {
    const s = cache.get(id);
    return s ? [s] : [];
  });
  return { series, error };
}
