'use client';

import { useEffect, useId, useRef, useState } from 'react';
import { RunDatasetVersionQuery, RunGridsQuery, type RunDetail } from '../../graphql/operations/run-detail';
import { request } from '../../lib/graphql';
import { useElementWidth } from '../use-element-width';
import type { RunOption } from './CompareRuns';
import { fittingZoom, gridLayout, ZOOMS, type GridConfig } from '../../lib/grid-layout';
import { LabelledGrid, ZoomControl } from './LabelledGrid';
import styles from './runs.module.css';

type Grid = Pick<RunDetail['sampleGrids'][number], 'step' | 'url' | 'width' | 'height' | 'seeds'>;
type LabelledConfig = GridConfig & { sampleSeed: number };

/** Grids of a run labelled with its dataset's classes (what the compare view needs of each compared run). */
interface ComparedGrids {
  id: string;
  name: string;
  grids: Grid[];
  config: LabelledConfig;
  labelNames: string[];
}

// Before the card is measured (server render): wide enough for a 16-column grid of 32 px images at 1×.
const DEFAULT_MAX_WIDTH = 560;
// What a class-conditional grid's row labels take beside the image (at most 10em, .rowLabels) plus the gap.
const ROW_LABELS_WIDTH = 90;

/** The grid of `grids` at `step`, or else the last one before it (null: none yet). */
function gridAt(grids: readonly Grid[], step: number): Grid | null {
  let best: Grid | null = null;
  for (const g of grids) if (g.step <= step && (!best || g.step > best.step)) best = g;
  return best;
}

function useComparedGrids(compared: readonly RunOption[]): { runs: ComparedGrids[]; error: string | null } {
  const [loaded, setLoaded] = useState<Record<string, ComparedGrids>>({});
  const [error, setError] = useState<string | null>(null);
  const ids = compared.map((r) => r.id).join(',');
  useEffect(() => {
    let current = true;
    for (const id of ids ? ids.split(',') : []) {
      void (async () => {
        const result = await request(RunGridsQuery, { id });
        if (!current) return;
        if (!result.ok) return setError(result.errors[0]?.message ?? 'Could not load a compared run’s grids');
        const run = result.data.run;
        let labelNames: string[] = [];
        if (run.datasetVersionId) {
          const version = await request(RunDatasetVersionQuery, { id: run.datasetVersionId });
          if (version.ok) labelNames = version.data.datasetVersion.labels.map((l) => l.label);
        }
        if (current)
          setLoaded((all) => ({
            ...all,
            [id]: { id, name: run.name, grids: run.sampleGrids, config: run.config, labelNames },
          }));
      })();
    }
    return () => {
      current = false;
    };
  }, [ids]);
  return { runs: compared.flatMap((r) => (loaded[r.id] ? [loaded[r.id]!] : [])), error };
}

/**
 * The sample grid at a chosen step, labelled (classes by row, the seed's images by column), at a zoom that fits,
 * with a slider over every step that has one; beside it, the grids of compared runs at the same step. It follows
 * the newest grid until someone moves the slider. Grid URLs live 5 minutes: a failed image asks for fresh ones.
 */
export function SampleTimeline({
  runName,
  grids,
  config,
  labelNames,
  compared = [],
  onStaleUrl,
}: {
  runName: string;
  grids: RunDetail['sampleGrids'];
  config: LabelledConfig & { sampleEvery: number };
  labelNames: readonly string[];
  compared?: readonly RunOption[];
  onStaleUrl: () => void;
}) {
  const sorted = [...grids].sort((a, b) => a.step - b.step);
  const [picked, setPicked] = useState<number | null>(null);
  const [zoom, setZoom] = useState<number | null>(null);
  const sliderId = useId();
  const others = useComparedGrids(compared);
  // A grid that fails for another reason than an expired URL must not reload the run in a loop.
  const lastStaleCall = useRef(0);
  const urlExpired = () => {
    if (Date.now() - lastStaleCall.current < 30_000) return;
    lastStaleCall.current = Date.now();
    onStaleUrl();
  };
  const index = picked === null ? sorted.length - 1 : Math.min(picked, sorted.length - 1);
  const grid = sorted[index];
  const comparing = others.runs.length > 0;
  // The default zoom is the largest that fits the card as it is laid out now (half of it per grid when comparing).
  const [bodyRef, bodyWidth] = useElementWidth<HTMLDivElement>();
  const layout = grid ? gridLayout(config, grid.width, grid.height, labelNames) : null;
  const available = (bodyWidth ?? DEFAULT_MAX_WIDTH) / (comparing ? 2 : 1) - (layout?.rowLabels ? ROW_LABELS_WIDTH : 0);
  const shownZoom = zoom ?? (grid ? fittingZoom(grid.width, available) : 1);

  const own = grid ? (
    <LabelledGrid
      url={grid.url}
      width={grid.width}
      height={grid.height}
      step={grid.step}
      seed={grid.seeds[0] ?? config.sampleSeed}
      layout={layout}
      zoom={shownZoom}
      onError={urlExpired}
    />
  ) : null;

  return (
    <section className="card" aria-labelledby="samples-heading">
      <div className="card-header">
        <h2 id="samples-heading">Samples</h2>
        {grid ? (
          <div className={styles.zoom}>
            <span className="muted">{sorted.length === 1 ? '1 grid' : `${sorted.length} grids`}</span>
            <ZoomControl zoom={shownZoom} zooms={ZOOMS} onChange={setZoom} />
          </div>
        ) : null}
      </div>
      <div className="card-body" ref={bodyRef}>
        {!grid ? (
          <div className="empty">
            <h3>No sample grids yet</h3>
            <p>
              The trainer draws a grid from fixed seeds at step 0 and then every{' '}
              {config.sampleEvery.toLocaleString('en')} steps (sampleEvery in the run config).
            </p>
          </div>
        ) : (
          <div className={styles.samples}>
            {comparing ? (
              <div className={styles.compareGrids} data-testid="compare-grids">
                <figure data-testid="compare-grid-this">
                  <figcaption>
                    <strong>{runName}</strong> · step {grid.step.toLocaleString('en')}
                  </figcaption>
                  {own}
                </figure>
                {others.runs.map((other) => {
                  const theirs = gridAt(other.grids, grid.step);
                  return (
                    <figure key={other.id} data-testid={`compare-grid-${other.id}`}>
                      <figcaption>
                        <strong>{other.name}</strong> ·{' '}
                        {theirs === null
                          ? `no grid at or before step ${grid.step.toLocaleString('en')}`
                          : theirs.step === grid.step
                            ? `step ${theirs.step.toLocaleString('en')}`
                            : `step ${theirs.step.toLocaleString('en')} (its last grid before ${grid.step.toLocaleString('en')})`}
                      </figcaption>
                      {theirs ? (
                        <LabelledGrid
                          url={theirs.url}
                          width={theirs.width}
                          height={theirs.height}
                          step={theirs.step}
                          seed={theirs.seeds[0] ?? other.config.sampleSeed}
                          layout={gridLayout(other.config, theirs.width, theirs.height, other.labelNames)}
                          zoom={shownZoom}
                          testId="compared-sample-grid"
                        />
                      ) : null}
                    </figure>
                  );
                })}
              </div>
            ) : (
              own
            )}
            {others.error ? (
              <p className="field-error" role="alert">
                {others.error}
              </p>
            ) : null}
            <div className={styles.sliderRow}>
              <label htmlFor={sliderId}>
                Step <strong className="mono">{grid.step.toLocaleString('en')}</strong>
              </label>
              <input
                id={sliderId}
                type="range"
                min={0}
                max={sorted.length - 1}
                step={1}
                value={index}
                disabled={sorted.length < 2}
                onChange={(e) => {
                  const next = Number(e.target.value);
                  setPicked(next === sorted.length - 1 ? null : next);
                }}
                aria-valuetext={`step ${grid.step}`}
              />
            </div>
          </div>
        )}
      </div>
    </section>
  );
}
