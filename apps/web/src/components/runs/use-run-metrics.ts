'use client';

import { useCallback, useEffect, useState } from 'react';
import { RunMetricsQuery } from '../../graphql/operations/run-detail';
import { request } from '../../lib/graphql';
import { appendPoints, capPoints, type Series } from '../charts/series';

export type MetricsState =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; series: Map<string, Series>; lastStep: number };

/** Buckets per series the server sends; about one per pixel of a wide chart. */
export const MAX_POINTS = 1000;

/**
 * Loads downsampled series of `keys` for a run (one query), then lets a live feed append points.
 * The state keeps one Series per key; `append` returns nothing and updates only the keys it got.
 */
export function useRunMetrics(runId: string, keys: readonly string[], maxPoints = MAX_POINTS) {
  const [state, setState] = useState<MetricsState>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const keyList = keys.join(',');

  useEffect(() => {
    let current = true;
    setState({ kind: 'loading' });
    void request(RunMetricsQuery, { id: runId, keys: keyList.split(','), maxPoints }).then((result) => {
      if (!current) return;
      if (!result.ok) {
        setState({ kind: 'error', message: result.errors[0]?.message ?? 'Could not load the metrics' });
        return;
      }
      const series = new Map<string, Series>();
      let lastStep = -1;
      for (const s of result.data.run.metrics) {
        series.set(s.key, {
          label: s.key,
          steps: s.points.map((p) => p.step),
          values: s.points.map((p) => p.mean ?? null),
        });
        for (const p of s.points) lastStep = Math.max(lastStep, p.lastStep ?? p.step);
      }
      setState({ kind: 'ready', series, lastStep });
    });
    return () => {
      current = false;
    };
  }, [runId, keyList, maxPoints, attempt]);

  const append = useCallback(
    (points: readonly { key: string; step: number; value: number }[]) => {
      setState((prev) => {
        if (prev.kind !== 'ready' || points.length === 0) return prev;
        const byKey = new Map<string, { step: number; value: number }[]>();
        let lastStep = prev.lastStep;
        for (const p of points) {
          (byKey.get(p.key) ?? byKey.set(p.key, []).get(p.key)!).push(p);
          lastStep = Math.max(lastStep, p.step);
        }
        const series = new Map(prev.series);
        for (const [key, keyPoints] of byKey) {
          const before = series.get(key) ?? { label: key, steps: [], values: [] };
          series.set(key, capPoints(appendPoints(before, keyPoints), maxPoints * 2));
        }
        return { kind: 'ready', series, lastStep };
      });
    },
    [maxPoints],
  );

  const retry = useCallback(() => setAttempt((a) => a + 1), []);
  return { state, append, retry };
}
