'use client';

import { useId, useRef, useState } from 'react';
import type { RunDetail } from '../../graphql/operations/run-detail';
import styles from './runs.module.css';

/**
 * The sample grid at a chosen step, with a slider over every step that has one. It follows the newest
 * grid until someone moves the slider. Grid URLs live 5 minutes: a failed image asks for fresh ones.
 */
export function SampleTimeline({ grids, onStaleUrl }: { grids: RunDetail['sampleGrids']; onStaleUrl: () => void }) {
  const sorted = [...grids].sort((a, b) => a.step - b.step);
  const [picked, setPicked] = useState<number | null>(null);
  const sliderId = useId();
  // A grid that fails for another reason than an expired URL must not reload the run in a loop.
  const lastStaleCall = useRef(0);
  const urlExpired = () => {
    if (Date.now() - lastStaleCall.current < 30_000) return;
    lastStaleCall.current = Date.now();
    onStaleUrl();
  };
  const index = picked === null ? sorted.length - 1 : Math.min(picked, sorted.length - 1);
  const grid = sorted[index];

  return (
    <section className="card" aria-labelledby="samples-heading">
      <div className="card-header">
        <h2 id="samples-heading">Samples</h2>
        {grid ? <span className="muted">{sorted.length === 1 ? '1 grid' : `${sorted.length} grids`}</span> : null}
      </div>
      <div className="card-body">
        {!grid ? (
          <div className="empty">
            <h3>No sample grids yet</h3>
            <p>
              The trainer draws a grid from fixed seeds at step 0 and then every few hundred steps (sampleEvery in the
              run config).
            </p>
          </div>
        ) : (
          <div className={styles.samples}>
            <img
              key={grid.url}
              src={grid.url}
              alt={`Samples at step ${grid.step}`}
              width={grid.width}
              height={grid.height}
              className={styles.sampleImage}
              data-testid="sample-grid"
              onError={urlExpired}
            />
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
              <span className="muted">
                seeds {grid.seeds.slice(0, 4).join(', ')}
                {grid.seeds.length > 4 ? '…' : ''}
              </span>
            </div>
          </div>
        )}
      </div>
    </section>
  );
}
