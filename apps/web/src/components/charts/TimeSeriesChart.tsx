'use client';

import { useEffect, useMemo, useRef } from 'react';
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { alignSeries, pointCount, smooth, type Series } from './series';
import styles from './charts.module.css';

// Distinguishable on light and dark backgrounds; the first is the run's own line.
const PALETTE = [
  '#6366f1',
  '#f97316',
  '#10b981',
  '#e11d48',
  '#0ea5e9',
  '#a855f7',
  '#eab308',
  '#14b8a6',
  '#64748b',
  '#ec4899',
];

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
  /**
   * The step range to keep in view (the zoom the caller follows); null shows every step. New data keeps it,
   * so finer points fetched for the range replace the coarse ones without the chart jumping back out.
   */
  zoom?: { from: number; to: number } | null;
  /**
   * Called when the person zooms (drag across the plot: the range, and the plot's width in CSS pixels) or
   * resets (double-click: null). Not called for the chart's own rescaling.
   */
  onZoom?: (range: ZoomRange | null) => void;
}

export interface ZoomRange {
  from: number;
  to: number;
  /** Plot width in CSS pixels: about how many points are worth fetching for the range. */
  pixels: number;
}

/**
 * A uPlot line chart over training steps. uPlot draws 100k+ points on a canvas in milliseconds; the
 * chart is created once per shape (lines, log scale) and fed with setData on every update, so live
 * points redraw without rebuilding. `data-points` (drawable points), `data-redraw-ms` (the last
 * setData), `data-zoom` (the step range in view when zoomed) and `data-visible-points` (drawable
 * points in view) let tests and the bench watch it.
 */
export function TimeSeriesChart({
  title,
  series,
  smoothing = 0,
  logScale = false,
  height = 220,
  emptyText = 'No points yet',
  formatValue,
  zoom = null,
  onZoom,
}: TimeSeriesChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const figure = useRef<HTMLElement>(null);
  const zoomRef = useRef(zoom);
  zoomRef.current = zoom;
  const onZoomRef = useRef(onZoom);
  onZoomRef.current = onZoom;
  // Set while this component rescales the chart itself, so only the person's zooms reach onZoom.
  const rescaling = useRef(false);
  const labels = series.map((s) => s.label).join('\u0000');
  const points = pointCount(series);

  const data = useMemo(() => {
    const drawn = series.map((s) => ({
      ...s,
      // A log axis cannot show 0 or negatives: those points are left out rather than breaking the scale.
      values: smooth(s.values, smoothing).map((v) => (v !== null && logScale && v <= 0 ? null : v)),
    }));
    return alignSeries(drawn);
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
        hooks: {
          setScale: [
            (u, key) => {
              if (key !== 'x') return;
              if (figure.current) describeView(figure.current, u);
              if (rescaling.current) return;
              // uPlot applies scales in a microtask, after `rescaling` is cleared: a range equal to the one
              // we follow is our own rescale, not the person's.
              const range = zoomedRange(u);
              const current = zoomRef.current;
              if (range ? current && current.from === range.from && current.to === range.to : !current) return;
              onZoomRef.current?.(range);
            },
          ],
        },
        scales: { x: { time: false }, y: logScale ? { distr: 3 } : {} },
        axes: [
          {
            label: 'step',
            stroke: 'currentColor',
            grid: { stroke: 'rgba(128,128,128,0.15)' },
            ticks: { stroke: 'rgba(128,128,128,0.3)' },
          },
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
            // uPlot's default: dots only where points are sparse (below 2 dot widths apart they hide). A
            // series with one value so far (images/s early in a run) would otherwise draw nothing at all.
            points: { size: 5 },
            value: formatValue ? (_u: uPlot, v: number | null) => (v == null ? '–' : formatValue(v)) : undefined,
          })),
        ],
      };
      rescaling.current = true;
      plot.current = new UPlot(options, latestData.current, element);
      const kept = zoomRef.current;
      if (kept) plot.current.setScale('x', { min: kept.from, max: kept.to });
      rescaling.current = false;
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

  // New points: feed the existing chart. A zoom the caller follows is kept; otherwise x fits all steps.
  useEffect(() => {
    const chart = plot.current;
    if (!chart) return;
    const start = performance.now();
    rescaling.current = true;
    const kept = zoomRef.current;
    if (kept) {
      // Keep the person's zoom: new data without autoscaling x, then the range again (y rescales to it).
      chart.setData(data, false);
      chart.setScale('x', { min: kept.from, max: kept.to });
    } else {
      chart.setData(data);
    }
    rescaling.current = false;
    if (figure.current) describeView(figure.current, chart);
    // uPlot draws in a microtask it queued during setData; this one runs after it, so it times the redraw.
    queueMicrotask(() => {
      if (figure.current) figure.current.dataset.redrawMs = (performance.now() - start).toFixed(2);
    });
  }, [data]);

  // The caller reset the zoom (or set one) while the data stayed the same.
  const zoomKey = zoom ? `${zoom.from}:${zoom.to}` : '';
  useEffect(() => {
    const chart = plot.current;
    if (!chart) return;
    const x = chart.scales.x ?? {};
    const want = zoomRef.current;
    if (want ? x.min === want.from && x.max === want.to : zoomedRange(chart) === null) return;
    rescaling.current = true;
    if (want) chart.setScale('x', { min: want.from, max: want.to });
    else chart.setData(chart.data);
    rescaling.current = false;
    if (figure.current) describeView(figure.current, chart);
  }, [zoomKey]);

  return (
    <figure
      ref={figure}
      className={styles.chart}
      data-testid={`chart-${title}`}
      data-points={points}
      title={onZoom ? 'Drag across the chart to zoom into steps; double-click to see all steps' : undefined}
    >
      <figcaption className={styles.chartTitle}>{title}</figcaption>
      {points === 0 ? (
        <div className={styles.chartEmpty} style={{ height }}>
          {emptyText}
        </div>
      ) : (
        <div
          ref={host}
          className={styles.chartCanvas}
          role="img"
          aria-label={`${title}: ${series.map((s) => s.label).join(', ')} over steps`}
        />
      )}
    </figure>
  );
}

/** The x range in view if it is narrower than the data (a zoom), else null. */
function zoomedRange(u: uPlot): ZoomRange | null {
  const xs = u.data[0];
  const { min, max } = u.scales.x ?? {};
  if (!xs || xs.length < 2 || min == null || max == null) return null;
  if (min <= xs[0]! && max >= xs[xs.length - 1]!) return null;
  return { from: min, to: max, pixels: Math.max(50, Math.round(u.over.clientWidth || u.width)) };
}

/** Writes what is in view onto the figure (read by tests and the bench; no React render per pan). */
function describeView(element: HTMLElement, u: uPlot): void {
  const range = zoomedRange(u);
  if (range) element.dataset.zoom = `${Math.round(range.from)}-${Math.round(range.to)}`;
  else delete element.dataset.zoom;
  const xs = u.data[0] ?? [];
  const { min, max } = u.scales.x ?? {};
  let visible = 0;
  for (let s = 1; s < u.data.length; s++) {
    const ys = u.data[s]!;
    for (let i = 0; i < xs.length; i++) {
      const y = ys[i];
      if (y != null && Number.isFinite(y) && (min == null || xs[i]! >= min) && (max == null || xs[i]! <= max))
        visible++;
    }
  }
  element.dataset.visiblePoints = String(visible);
}
