'use client';

import { useEffect, useMemo, useState } from 'react';
import { RunMetricsQuery } from '../../graphql/operations/run-detail';
import { executeGraphQL } from '../../lib/graphql';
import type { ZoomRange } from '../charts/TimeSeriesChart';
import { replaceRange, type Series } from '../charts/series';

/** A line of a run chart: which run and metric it draws, and its overview (downsampled, live) points. */
export interface ChartLine {
  runId: string;
  key: string;
  series: Series;
}

/** Wait for the person to stop dragging or panning before asking the server. */
const ZOOM_DEBOUNCE_MS = 250;

type Detail = { range: ZoomRange; byLine: Map<string, Series> };
const lineId = (runId: string, key: string) => `${runId}\u0000${key}`;

/**
 * Zoom for a run chart: the overview holds about one bucket per pixel of the whole run, so a zoomed
 * range shows few points. On zoom this reads that step range again at the chart's resolution (one
 * metrics query per run on the chart, debounced; a newer zoom aborts the older requests) and draws it
 * in place of the overview's points there. Reset (null) goes back to the overview.
 */
export function useZoomedLines(lines: readonly ChartLine[]) {
  const [zoom, setZoom] = useState<ZoomRange | null>(null);
  const [detail, setDetail] = useState<Detail | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Which runs and keys to read: stable across live updates of the points.
  const wanted = lines.map((l) => lineId(l.runId, l.key)).join('\u0001');

  useEffect(() => {
    setError(null);
    if (!zoom) {
      setDetail(null);
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => {
      const byRun = new Map<string, string[]>();
      for (const id of wanted.split('\u0001')) {
        const [runId, key] = id.split('\u0000') as [string, string];
        (byRun.get(runId) ?? byRun.set(runId, []).get(runId)!).push(key);
      }
      const fromStep = Math.max(0, Math.floor(zoom.from));
      const toStep = Math.ceil(zoom.to);
      void Promise.all(
        [...byRun].map(async ([runId, keys]) => {
          const result = await executeGraphQL(
            '/graphql',
            RunMetricsQuery,
            { id: runId, keys, maxPoints: zoom.pixels, fromStep, toStep },
            { credentials: 'same-origin', signal: abort.signal },
          );
          if (!result.ok) throw new Error(result.errors[0]?.message ?? 'Could not load the zoomed range');
          return result.data.run.metrics.map(
            (m) =>
              [
                lineId(runId, m.key),
                { label: m.key, steps: m.points.map((p) => p.step), values: m.points.map((p) => p.mean ?? null) },
              ] as const,
          );
        }),
      ).then(
        (read) => {
          if (!abort.signal.aborted)
            setDetail({ range: { ...zoom, from: fromStep, to: toStep }, byLine: new Map(read.flat()) });
        },
        (err: Error) => {
          if (!abort.signal.aborted) setError(err.message);
        },
      );
    }, ZOOM_DEBOUNCE_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [zoom, wanted]);

  const series = useMemo(
    () =>
      lines.map((line) => {
        const fine = detail?.byLine.get(lineId(line.runId, line.key));
        return fine && detail ? replaceRange(line.series, fine, detail.range.from, detail.range.to) : line.series;
      }),
    [lines, detail],
  );

  const onZoom = (range: ZoomRange | null) => setZoom(range);
  return { series, zoom: zoom ? { from: zoom.from, to: zoom.to } : null, onZoom, error, detailed: detail !== null };
}
