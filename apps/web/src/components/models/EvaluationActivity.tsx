'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import {
  CancelEvaluationMutation,
  EvaluationQuery,
  EvaluationUpdatedSubscription,
  type EvaluationActivityQuery,
} from '../../graphql/operations/models';
import type { ResultOf } from '../../graphql/tada';
import { formatDateTime, queuePlace } from '../../lib/format';
import { request } from '../../lib/graphql';
import { useSubscriptionOrPoll } from '../../lib/subscriptions';
import { FormError } from '../Field';
import { DeleteEvaluationButton } from './DeleteEvaluationButton';
import { ProgressBar } from './ProgressBar';
import styles from './models.module.css';
import { BusyButton } from '../BusyButton';

export type ActivityEvaluation = ResultOf<typeof EvaluationActivityQuery>['model']['evaluations'][number];

const ACTIVE = new Set(['QUEUED', 'RUNNING']);

type Phase = NonNullable<ActivityEvaluation['phase']>;

/** What a running evaluation is doing, in words (the bar shows the images generated). */
function runningLabel(e: ActivityEvaluation): string {
  const generated = Math.min(e.samplesDone, e.numSamples);
  switch (e.phase) {
    case 'CLASSIFIER':
      return 'Preparing the dataset’s classifier (trained once per dataset version)';
    case 'GENERATING':
      return `Generating: ${generated} of ${e.numSamples} images`;
    case 'MEASURING':
      return `Measuring the features of ${e.numSamples} generated and ${e.numSamples} real images`;
    default:
      return 'Starting: loading the model and the feature extractor';
  }
}

const STOPPED_WHILE: Record<Phase, string> = {
  CLASSIFIER: 'while preparing the dataset’s classifier',
  GENERATING: 'while generating',
  MEASURING: 'while measuring',
};

/**
 * The evaluations that have no numbers in the tables above: queued and running ones, live (place in the queue,
 * progress, Cancel for whoever may), and recently failed or cancelled ones with why. It lives on the page, not in
 * the form that queued them, so a teammate or a reload sees them too.
 */
export function EvaluationActivity({
  evaluations,
  versionNumbers,
}: {
  evaluations: readonly ActivityEvaluation[];
  versionNumbers: ReadonlyMap<string, number>;
}) {
  if (evaluations.length === 0) return null;
  return (
    <div className="card-body">
      <h3 id="evaluation-activity-heading">In progress and recent</h3>
      <ul className={styles.activityList} aria-labelledby="evaluation-activity-heading">
        {evaluations.map((e) => (
          <ActivityRow key={e.id} initial={e} version={versionNumbers.get(e.modelVersionId)} />
        ))}
      </ul>
    </div>
  );
}

function ActivityRow({ initial, version }: { initial: ActivityEvaluation; version: number | undefined }) {
  const router = useRouter();
  const [evaluation, setEvaluation] = useState(initial);
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<string | null>(null);
  const active = ACTIVE.has(evaluation.status);

  function update(next: ActivityEvaluation) {
    setEvaluation(next);
    // Its numbers go into the tables above (and this row leaves the list): the server renders both.
    if (next.status === 'SUCCEEDED') router.refresh();
  }

  async function cancel() {
    setCancelling(true);
    setCancelError(null);
    const result = await request(CancelEvaluationMutation, { id: evaluation.id });
    setCancelling(false);
    if (result.ok) update(result.data.cancelEvaluation);
    else setCancelError(result.errors[0]?.message ?? 'Could not cancel the evaluation');
  }

  const generated = Math.min(evaluation.samplesDone, evaluation.numSamples);
  return (
    <li className={styles.activityRow} data-testid="evaluation-activity" data-status={evaluation.status}>
      {active ? <Follow id={evaluation.id} onUpdate={update} /> : null}
      <p>
        <strong>v{version ?? '?'}</strong> · {evaluation.numSamples.toLocaleString('en')} samples ·{' '}
        <span className="mono">{evaluation.extractor.split('(')[0]}</span>
        <span className="muted"> · queued {formatDateTime(evaluation.queuedAt)}</span>
      </p>
      {evaluation.status === 'QUEUED' ? (
        <p role="status">
          Queued{queuePlace(evaluation.queuePosition) ? `: ${queuePlace(evaluation.queuePosition)}` : '…'}
        </p>
      ) : null}
      {evaluation.status === 'RUNNING' ? (
        <ProgressBar label={runningLabel(evaluation)} fraction={generated / Math.max(1, evaluation.numSamples)} />
      ) : null}
      {evaluation.status === 'FAILED' ? (
        <FormError>Evaluation failed: {evaluation.error ?? 'no reason given'}</FormError>
      ) : null}
      {evaluation.status === 'CANCELLED' ? (
        <p className="muted" role="status">
          Cancelled{evaluation.finishedAt ? ` ${formatDateTime(evaluation.finishedAt)}` : ''}
          {evaluation.phase ? `, ${STOPPED_WHILE[evaluation.phase]}` : ', before it started'}.
        </p>
      ) : null}
      {evaluation.status === 'SUCCEEDED' ? <p role="status">Finished: its numbers are in the table above.</p> : null}
      {active && evaluation.viewerCanCancel ? (
        <div>
          <BusyButton busy={cancelling} onClick={() => void cancel()} size="sm">
            Cancel
          </BusyButton>
        </div>
      ) : null}
      {cancelError ? <FormError>{cancelError}</FormError> : null}
      {!active && evaluation.status !== 'SUCCEEDED' && evaluation.viewerCanDelete ? (
        <div>
          <DeleteEvaluationButton
            id={evaluation.id}
            what={`this ${evaluation.status === 'FAILED' ? 'failed' : 'cancelled'} evaluation`}
          />
        </div>
      ) : null}
    </li>
  );
}

/**
 * Follows one queued or running evaluation (mounted only while it is): pushed by evaluationUpdated, or asked every
 * 2 s when the subscription cannot connect.
 */
function Follow({ id, onUpdate }: { id: string; onUpdate: (e: ActivityEvaluation) => void }) {
  useSubscriptionOrPoll(
    EvaluationUpdatedSubscription,
    { id },
    (data) => onUpdate(data.evaluationUpdated),
    // request() answers failures as results (it does not reject), so nothing is left unhandled.
    async () => {
      const result = await request(EvaluationQuery, { id });
      if (result.ok) onUpdate(result.data.evaluation);
    },
    true,
  );
  return null;
}
