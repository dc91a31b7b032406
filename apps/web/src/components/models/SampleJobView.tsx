'use client';

import { useState } from 'react';
import {
  CancelSampleJobMutation,
  readSampleJob,
  SampleJobQuery,
  SampleJobUpdatedSubscription,
  type SampleJob,
} from '../../graphql/operations/sampling';
import { request } from '../../lib/graphql';
import { samplerLabel } from './sampling-form';
import { queuePlace } from '../../lib/format';
import { useSubscriptionOrPoll } from '../../lib/subscriptions';
import { FormError } from '../Field';
import { ProgressBar } from './ProgressBar';
import styles from './models.module.css';
import { BusyButton } from '../BusyButton';

export type { SampleJob };

/**
 * A server sample job as it moves: queue position, progress and then the images, pushed by the
 * sampleJobUpdated subscription. If the subscription cannot connect, it asks every 2 s instead.
 */
export function SampleJobView({ initial, shareToken }: { initial: SampleJob; shareToken: string | null }) {
  const [job, setJob] = useState(initial);
  const finished = job.status === 'SUCCEEDED' || job.status === 'FAILED' || job.status === 'CANCELLED';
  useSubscriptionOrPoll(
    SampleJobUpdatedSubscription,
    { id: initial.id, shareToken },
    (data) => setJob(readSampleJob(data.sampleJobUpdated)),
    // request() answers failures as results (it does not reject), so nothing is left unhandled.
    async () => {
      const result = await request(SampleJobQuery, { id: initial.id, shareToken });
      if (result.ok) setJob(readSampleJob(result.data.sampleJob));
    },
    !finished,
  );
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<string | null>(null);

  async function cancel() {
    setCancelling(true);
    setCancelError(null);
    const result = await request(CancelSampleJobMutation, { id: initial.id, shareToken });
    setCancelling(false);
    if (result.ok) setJob(readSampleJob(result.data.cancelSampleJob));
    else setCancelError(result.errors[0]?.message ?? 'Could not cancel');
  }

  return (
    <div className={styles.progressRow} data-testid="server-job" data-status={job.status}>
      {job.status === 'QUEUED' ? (
        <p role="status">
          Queued
          {queuePlace(job.queuePosition) ? ` — ${queuePlace(job.queuePosition)}` : ''}
        </p>
      ) : null}
      {job.status === 'RUNNING' ? (
        <ProgressBar
          label={
            job.params.interpolation
              ? 'Interpolating on the server'
              : `Sampling on the server: step ${job.progress.stepsDone} of ${job.progress.stepsTotal}`
          }
          fraction={job.progress.fraction}
        />
      ) : null}
      {!finished ? (
        <BusyButton busy={cancelling} onClick={() => void cancel()} size="sm">
          Cancel
        </BusyButton>
      ) : null}
      {cancelError ? <FormError>{cancelError}</FormError> : null}
      {job.status === 'CANCELLED' ? (
        <p className="muted" role="status">
          Cancelled
          {job.progress.stepsDone > 0
            ? ` after ${job.progress.stepsDone} of ${job.progress.stepsTotal} steps`
            : ' before it started'}
          .
        </p>
      ) : null}
      {job.status === 'FAILED' ? <FormError>Sampling failed: {job.error ?? 'no reason given'}</FormError> : null}
      {job.status === 'SUCCEEDED' && job.params.interpolation ? (
        <>
          <p className="muted" role="status">
            {job.images.length} frames from training image {job.params.interpolation.indexA} to{' '}
            {job.params.interpolation.indexB}
          </p>
          <div className={styles.strip} data-testid="interpolation-strip">
            {job.images.map((image, i) => (
              <img key={image.url} src={image.url} alt={`Interpolation frame ${i + 1}`} />
            ))}
          </div>
        </>
      ) : job.status === 'SUCCEEDED' ? (
        <>
          <p className="muted" role="status">
            {job.images.length} images · seed {job.params.seed} ·{' '}
            {job.params.temperature !== null && job.params.temperature !== undefined
              ? `temperature ${job.params.temperature} (one pass)`
              : `${samplerLabel(job.params.sampler)} · ${job.params.steps} steps`}
            {job.params.label !== null ? ` · ${job.params.label}` : ''}
            {job.params.guidance !== null ? ` · guidance ${job.params.guidance}` : ''}
          </p>
          <ImageGrid urls={job.images.map((i) => i.url)} label="Server sample" />
        </>
      ) : null}
    </div>
  );
}

export function ImageGrid({ urls, label }: { urls: readonly string[]; label: string }) {
  return (
    <div className={styles.images}>
      {urls.map((url, i) => (
        <img key={url} src={url} alt={`${label} ${i + 1}`} />
      ))}
    </div>
  );
}
