'use client';

import { TimeSeriesChart, type TimeSeriesChartProps } from '../charts/TimeSeriesChart';
import { useZoomedLines, type ChartLine } from './use-zoomed-lines';
import styles from './runs.module.css';

/**
 * A chart of the run page: the lines' overview points, and after a zoom (drag across it) the zoomed
 * step range read again at the chart's resolution. Double-click, or the "All steps" button (for the
 * keyboard), goes back to the overview.
 */
export function RunChart({
  lines,
  ...chart
}: Omit<TimeSeriesChartProps, 'series' | 'zoom' | 'onZoom'> & { lines: readonly ChartLine[] }) {
  const zoomed = useZoomedLines(lines);
  const zoom = zoomed.zoom;
  return (
    <div
      className={styles.runChart}
      data-testid={`run-chart-${chart.title}`}
      data-detailed={zoomed.detailed ? 'true' : 'false'}
    >
      <TimeSeriesChart {...chart} series={zoomed.series} zoom={zoom} onZoom={zoomed.onZoom} />
      {zoom ? (
        <p className={styles.zoomNote}>
          <span className="muted" aria-live="polite">
            Steps {Math.round(zoom.from).toLocaleString('en')}–{Math.round(zoom.to).toLocaleString('en')}
            {zoomed.detailed ? ' at full resolution' : ' · loading finer points…'}
          </span>
          <button type="button" className="btn btn-secondary btn-sm" onClick={() => zoomed.onZoom(null)}>
            All steps
          </button>
        </p>
      ) : null}
      {zoomed.error ? (
        <p className="field-error" role="alert">
          {zoomed.error}
        </p>
      ) : null}
    </div>
  );
}
