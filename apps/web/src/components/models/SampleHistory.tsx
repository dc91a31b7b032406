'use client';

import { useState } from 'react';
import { SampleJobQuery, readSampleJob, type SampleJob } from '../../graphql/operations/sampling';
import { formatDateTime } from '../../lib/format';
import { request } from '../../lib/graphql';
import { FormError } from '../Field';
import { samplerLabel, settingsOf, type SamplingSettings } from './sampling-form';
import { ImageGrid, SampleJobView } from './SampleJobView';
import styles from './models.module.css';

/** Thumbnails shown per job before "Show all". */
const PREVIEW = 8;

/**
 * The caller's earlier server jobs on this version (newest first, as the page loaded them): what each asked for, its
 * first images, all of them on demand, and "Use these settings" to ask for the same images again. Without it a
 * reload lost every result the playground had shown.
 */
export function SampleHistory({
  jobs,
  onUse,
}: {
  jobs: readonly SampleJob[];
  onUse: (settings: SamplingSettings) => void;
}) {
  if (jobs.length === 0) return null;
  return (
    <div className="card-body" aria-labelledby="sample-history-heading">
      <h3 id="sample-history-heading">Your earlier samples</h3>
      <ul className={styles.activityList}>
        {jobs.map((job) => (
          <HistoryRow key={job.id} initial={job} onUse={onUse} />
        ))}
      </ul>
    </div>
  );
}

function HistoryRow({ initial, onUse }: { initial: SampleJob; onUse: (settings: SamplingSettings) => void }) {
  const [job, setJob] = useState(initial);
  const [all, setAll] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const p = job.params;

  async function showAll() {
    // The page's image URLs are short-lived: ask for fresh ones.
    const result = await request(SampleJobQuery, { id: job.id, shareToken: null });
    if (!result.ok) return setError(result.errors[0]?.message ?? 'Could not load the images');
    setJob(readSampleJob(result.data.sampleJob));
    setAll(true);
  }

  const what = p.interpolation
    ? `interpolation: training image ${p.interpolation.indexA} → ${p.interpolation.indexB}, ${p.interpolation.frames} frames`
    : [
        `${p.count} ${p.count === 1 ? 'image' : 'images'}`,
        `seed ${p.seed}`,
        p.temperature != null ? `temperature ${p.temperature}` : `${samplerLabel(p.sampler)} · ${p.steps} steps`,
        ...(p.label != null ? [p.label] : []),
        ...(p.guidance != null ? [`guidance ${p.guidance}`] : []),
      ].join(' · ');
  const urls = job.images.map((i) => i.url);
  return (
    <li className={styles.activityRow} data-testid="sample-history-job" data-status={job.status}>
      <p>
        <span className="muted">{formatDateTime(job.queuedAt)} · </span>
        {what}
      </p>
      {job.status === 'SUCCEEDED' ? (
        <ImageGrid urls={all ? urls : urls.slice(0, PREVIEW)} label="Earlier sample" />
      ) : job.status === 'FAILED' || job.status === 'CANCELLED' ? (
        <p className="muted">{job.status === 'FAILED' ? `Failed: ${job.error ?? 'no reason given'}` : 'Cancelled.'}</p>
      ) : (
        // Queued or running when the page loaded: followed live here (with Cancel), as where it was started.
        <SampleJobView initial={job} shareToken={null} />
      )}
      <div className={styles.actions}>
        {!p.interpolation ? (
          <button type="button" className="btn btn-secondary btn-sm" onClick={() => onUse(settingsOf(p))}>
            Use these settings
          </button>
        ) : null}
        {job.status === 'SUCCEEDED' && !all && urls.length > PREVIEW ? (
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => void showAll()}>
            Show all {urls.length}
          </button>
        ) : null}
      </div>
      {error ? <FormError>{error}</FormError> : null}
    </li>
  );
}
