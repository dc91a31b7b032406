import type { RunDetail } from '../../graphql/operations/run-detail';

export type RunStatus = RunDetail['status'];

export const STATUS_BADGE: Record<RunStatus, { label: string; tone: string }> = {
  QUEUED: { label: 'Queued', tone: '' },
  STARTING: { label: 'Starting', tone: 'badge-accent' },
  RUNNING: { label: 'Running', tone: 'badge-accent' },
  CANCELLING: { label: 'Cancelling', tone: '' },
  SUCCEEDED: { label: 'Succeeded', tone: 'badge-success' },
  FAILED: { label: 'Failed', tone: 'badge-danger' },
  CANCELLED: { label: 'Cancelled', tone: '' },
  LOST: { label: 'Lost', tone: 'badge-danger' },
};

/** The trainer may still produce metrics, logs, grids or checkpoints. */
export function isLive(status: RunStatus): boolean {
  return (
    status === 'QUEUED' || status === 'STARTING' || status === 'RUNNING' || status === 'CANCELLING' || status === 'LOST'
  );
}

/** cancelRun accepts a run in these statuses. */
export function canCancel(status: RunStatus): boolean {
  return status === 'QUEUED' || status === 'STARTING' || status === 'RUNNING' || status === 'LOST';
}

/** What the API accepts in each status (cancelRun, resumeRun, forkRun); the buttons follow it. */
export function allowedActions(run: Pick<RunDetail, 'status' | 'checkpoints'>): {
  cancel: boolean;
  resume: boolean;
  fork: boolean;
} {
  return {
    cancel: canCancel(run.status),
    resume: run.status === 'FAILED' || run.status === 'CANCELLED',
    fork: run.checkpoints.length > 0,
  };
}

type AttemptEvent = { attempt: number; fromStatus: RunStatus | null; toStatus: RunStatus | null };

/**
 * What to say about the run's current attempt, in the terms of what happened: a resume the user asked for is
 * "resumed", automatic retries after a lost trainer count within the budget that resume (or the start) gave.
 * Null for a first attempt that was never retried. Only resumeRun moves a failed or cancelled run back to queued.
 */
export function attemptLabel(run: {
  attempt: number;
  maxAttempts: number;
  events: readonly AttemptEvent[];
}): string | null {
  const resumes = run.events.filter(
    (e) => e.toStatus === 'QUEUED' && (e.fromStatus === 'FAILED' || e.fromStatus === 'CANCELLED'),
  );
  const lastResume = resumes.at(-1);
  // The attempt that ended before the last resume: the automatic-retry budget counts from there.
  const windowStart = lastResume ? lastResume.attempt : 0;
  const inWindow = run.attempt - windowStart;
  const budget = run.maxAttempts - windowStart;
  const resumed = resumes.length === 0 ? null : resumes.length === 1 ? 'resumed' : `resumed ${resumes.length}×`;
  const retry = inWindow > 1 ? `automatic retry ${inWindow - 1} of ${budget - 1}` : null;
  const parts = [resumed, retry].filter((p): p is string => p !== null);
  return parts.length > 0 ? parts.join(' · ') : null;
}

export function formatEta(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s left`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min left`;
  return `${(seconds / 3600).toFixed(1)} h left`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** Short numbers for chart axes and legends: 3 significant digits (whole numbers from 100), exponent for tiny or huge values. */
export function formatMetric(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1e5 || abs < 1e-3) return value.toExponential(2);
  if (abs >= 100) return Math.round(value).toString();
  return Number(value.toPrecision(3)).toString();
}
