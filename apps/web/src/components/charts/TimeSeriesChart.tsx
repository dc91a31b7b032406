'use client';

import { useEffect, useMemo, useRef } from 'react';
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { alignSeries, pointCount, smooth, type Series } from './series';
import styles from './charts.module.css';

// Distinguishable on light and dark backgrounds; the first is the run's own line.
const PALETTE = ['#6366f1', '#f97316', '#10b981', '#e11d48', '#0ea5e9', '#a855f7', '#eab308', '#14b8a6', '#64748b', '#ec4899'];

export interface TimeSeriesChartProps {
  title: string;
  series: readonly Series[];
  /** EMA weight in [0, 1): applied to every line before drawing. */
  smoothing?: number;
  logScale?: boolean;
  height?: number;
  /** Shown in place of the chart while there is nothing to draw. */
  emptyText?: string;
  formatValue?: (value: number) => string;
}

/**
 * A uPlot line chart over training steps. uPlot draws 100k+ points on a canvas in milliseconds; the
 * chart is created once per shape (lines, log scale) and fed with setData on every update, so live
 * points redraw without rebuilding. `data-points` (drawable points) and `data-redraw-ms` (the last
 * setData) let tests and the bench watch it.
 */
export function TimeSeriesChart({ title, series, smoothing = 0, logScale = false, height = 220, emptyText = 'No points yet', formatValue }: TimeSeriesChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const figure = useRef<HTMLElement>(null);
  const labels = series.map((s) => s.label).join('\u0000');
  const points = pointCount(series);

  const data = useMemo(() => {
    const drawn = series.map((s) => ({
      ...s,
      // A log axis cannot show 0 or negatives: those points are left out rather than breaking the scale.
      values: smooth(s.values, smoothing).map((v) => (v !== null && logScale && v <= 0 ? null : v)),
    }));
    return alignSeries(drawn) as uPlot.AlignedData;
  }, [series, smoothing, logScale]);

  const latestData = useRef(data);
  latestData.current = data;

  // (Re)create the chart when its shape changes: the lines or the scale type.
  useEffect(() => {
    const element = host.current;
    if (!element || points === 0) return;
    let disposed = false;
    let observer: ResizeObserver | undefined;
    void import('uplot').then(({ default: UPlot }) => {
      if (disposed) return;
      const options: uPlot.Options = {
        width: Math.max(200, element.clientWidth),
        height,
        legend: { show: true, live: true },
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: false }, y: logScale ? { distr: 3 } : {} },
        axes: [
          { label: 'step', stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.15)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' } },
          {
            stroke: 'currentColor',
            size: 60,
            grid: { stroke: 'rgba(128,128,128,0.15)' },
            ticks: { stroke: 'rgba(128,128,128,0.3)' },
            values: formatValue ? (_u, splits) => splits.map((v) => (v == null ? '' : formatValue(v))) : undefined,
          },
        ],
        series: [
          { label: 'step' },
          ...labels.split('\u0000').map((label, i) => ({
            label,
            stroke: PALETTE[i % PALETTE.length],
            width: i === 0 ? 1.75 : 1.25,
            spanGaps: true,
            points: { show: false },
            value: formatValue ? (_u: uPlot, v: number | null) => (v == null ? '–' : formatValue(v)) : undefined,
          })),
        ],
      };
      plot.current = new UPlot(options, latestData.current, element);
      observer = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, element.clientWidth), height }));
      observer.observe(element);
    });
    return () => {
      disposed = true;
      observer?.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // formatValue is a module-level function in every caller; the chart is rebuilt only on shape changes.
  }, [labels, logScale, height, points === 0]);

  // New points: feed the existing chart (keeps the zoom unless it shows the whole range).
  useEffect(() => {
    const chart = plot.current;
    if (!chart) return;
    const start = performance.now();
    chart.setData(data);
    // uPlot draws in a microtask it queued during setData; this one runs after it, so it times the redraw.
    queueMicrotask(() => {
      if (figure.current) figure.current.dataset.redrawMs = (performance.now() - start).toFixed(2);
    });
  }, [data]);

  return (
    <figure ref={figure} className={styles.chart} data-testid={`chart-${title}`} data-points={points}>
      <figcaption className={styles.chartTitle}>{title}</figcaption>
      {points === 0 ? (
        <div className={styles.chartEmpty} style={{ height }}>
          {emptyText}
        </div>
      ) : (
        <div ref={host} className={styles.chartCanvas} role="img" aria-label={`${title}: ${series.map((s) => s.label).join(', ')} over steps`} />
      )}
    </figure>
  );
}
