import type { SubscriptionStatus } from '../lib/subscriptions';

/** Whether a live subscription is connected, in words and a dot; `testId` lets tests read `data-status`. */
export function LiveStatus({ status, testId }: { status: SubscriptionStatus; testId: string }) {
  return (
    <span className="muted" data-testid={testId} data-status={status}>
      <span
        className={`live-dot ${status === 'live' ? 'live-dot-live' : status === 'error' ? 'live-dot-error' : ''}`}
        aria-hidden="true"
      />
      {status === 'live' ? 'Live' : status === 'error' ? 'Live updates failed' : 'Connecting…'}
    </span>
  );
}
