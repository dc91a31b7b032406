'use client';

import { GRID_PADDING, type GridLayout } from '../../lib/grid-layout';
import styles from './runs.module.css';

/**
 * A sample grid drawn at `zoom`× its pixels (crisp, never smoothed), with the class of each row on the left and
 * the seed's image index above each column. Without a layout it is the bare image at that zoom.
 */
export function LabelledGrid({
  url,
  width,
  height,
  step,
  seed,
  layout,
  zoom,
  onError,
  testId = 'sample-grid',
}: {
  url: string;
  width: number;
  height: number;
  step: number;
  seed: number | null;
  layout: GridLayout | null;
  zoom: number;
  onError?: () => void;
  testId?: string;
}) {
  const image = (
    <img
      key={url}
      src={url}
      alt={`Samples at step ${step}${layout?.rowLabels ? `: rows ${layout.rowLabels.join(', ')}` : ''}`}
      width={width * zoom}
      height={height * zoom}
      className={styles.sampleImage}
      style={{ width: width * zoom, height: height * zoom }}
      data-testid={testId}
      data-zoom={zoom}
      onError={onError}
    />
  );
  if (!layout) return <div className={styles.gridScroll}>{image}</div>;
  const at = (i: number) => (GRID_PADDING + i * (layout.cell + GRID_PADDING)) * zoom;
  const cell = layout.cell * zoom;
  // Conditional grids reuse the same noise per column across rows, so a column is one seed image in every class.
  const columnLabel = (j: number) => (layout.rowLabels ? `#${j + 1}` : null);
  return (
    <div className={styles.gridScroll}>
      <div className={styles.labelledGrid} data-testid={`${testId}-labelled`}>
        <div />
        <div className={styles.colLabels} style={{ width: width * zoom }}>
          {layout.rowLabels
            ? Array.from({ length: layout.cols }, (_, j) => (
                <span key={j} style={{ left: at(j), width: cell }} data-testid="grid-col-label">
                  {columnLabel(j)}
                </span>
              ))
            : null}
        </div>
        <div className={styles.rowLabels} style={{ height: height * zoom }}>
          {layout.rowLabels?.map((name, i) => (
            <span key={i} style={{ top: at(i), height: cell }} title={name} data-testid="grid-row-label">
              {name}
            </span>
          ))}
          {/* The names again, in flow but invisible: the labels above are placed absolutely (to line up with
              their rows), so without these the column would not widen to the longest name and it would be cut. */}
          <div className={styles.rowLabelsSizer} aria-hidden="true">
            {layout.rowLabels?.map((name, i) => (
              <div key={i}>{name}</div>
            ))}
          </div>
        </div>
        {image}
      </div>
      <p className="muted" data-testid={`${testId}-caption`}>
        {seed !== null ? `Seed ${seed}` : 'Fixed seed'}
        {layout.rowLabels
          ? `: column #k is image k of the seed's noise, the same in every row, so rows differ only by class.`
          : `: images 1–${layout.rows * layout.cols} of the seed's noise, left to right, top to bottom.`}
      </p>
    </div>
  );
}

/** 1×–8× buttons for the grids on a page. */
export function ZoomControl({
  zoom,
  zooms,
  onChange,
}: {
  zoom: number;
  zooms: readonly number[];
  onChange: (zoom: number) => void;
}) {
  return (
    <div className={styles.zoom} role="group" aria-label="Grid zoom">
      <button
        type="button"
        className="btn btn-ghost btn-sm"
        aria-label="Zoom out"
        disabled={zoom <= zooms[0]!}
        onClick={() => onChange([...zooms].reverse().find((z) => z < zoom) ?? zoom)}
      >
        −
      </button>
      <span className="mono" data-testid="grid-zoom">
        {zoom}×
      </span>
      <button
        type="button"
        className="btn btn-ghost btn-sm"
        aria-label="Zoom in"
        disabled={zoom >= zooms.at(-1)!}
        onClick={() => onChange(zooms.find((z) => z > zoom) ?? zoom)}
      >
        +
      </button>
    </div>
  );
}
