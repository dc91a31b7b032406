'use client';

import { TimeSeriesChart, type TimeSeriesChartProps } from '../charts/TimeSeriesChart';
import { useZoomedLines, type ChartLine } from './use-zoomed-lines';

/**
 * A chart of the run page: the lines' overview points, and after a zoom (drag across it) the zoomed
 * step range read again at the chart's resolution. Double-click goes back to the overview.
 */
export function RunChart({ lines, ...chart }: Omit<TimeSeriesChartProps, 'series' | 'zoom' | 'onZoom'> & { lines: readonly ChartLine[] }) {
  const zoomed = useZoomedLines(lines);
  return (
    <div style={{ minWidth: 0 }} data-testid={`run-chart-${chart.title}`} data-detailed={zoomed.detailed ? 'true' : 'false'}>
      <TimeSeriesChart {...chart} series={zoomed.series} zoom={zoomed.zoom} onZoom={zoomed.onZoom} />
      {zoomed.error ? (
        <p className="field-error" role="alert">
          {zoomed.error}
        </p>
      ) : null}
    </div>
  );
}
