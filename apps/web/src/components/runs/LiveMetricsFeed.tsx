'use client';

import { useState } from 'react';
import { RunMetricsLiveSubscription } from '../../graphql/operations/run-detail';
import { useSubscription } from '../../lib/subscriptions';
import { LiveStatus } from '../LiveStatus';

/**
 * Subscribes to runMetrics after the initial load (points after `sinceStep`) and hands each batch on.
 * Mounted only while the run can still report, so a finished run holds no socket subscription.
 */
export function LiveMetricsFeed({
  runId,
  keys,
  sinceStep,
  onPoints,
}: {
  runId: string;
  keys: string[];
  sinceStep: number;
  onPoints: (points: { key: string; step: number; value: number }[]) => void;
}) {
  // Fixed at mount: later points arrive over this subscription, a new sinceStep would only resubscribe.
  const [since] = useState(sinceStep);
  const status = useSubscription(RunMetricsLiveSubscription, { id: runId, keys, sinceStep: since }, (data) =>
    onPoints(data.runMetrics.points),
  );
  return <LiveStatus status={status} testId="metrics-live" />;
}
