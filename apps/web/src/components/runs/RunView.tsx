'use client';

import { useCallback, useState } from 'react';
import {
  readRunDetail,
  RunDetailQuery,
  RunUpdatedSubscription,
  type RunDetail,
} from '../../graphql/operations/run-detail';
import { request } from '../../lib/graphql';
import { useSubscription } from '../../lib/subscriptions';
import { CheckpointsTable } from './CheckpointsTable';
import { CompareEvaluations } from './CompareEvaluations';
import { LogsTail } from './LogsTail';
import { MetricsPanel } from './MetricsPanel';
import { ReproInfo, type DatasetVersionInfo } from './ReproInfo';
import type { RunOption } from './CompareRuns';
import { RunActions } from './RunActions';
import { RunHeader } from './RunHeader';
import { isLive } from './run-status';
import { SampleTimeline } from './SampleTimeline';
import styles from './runs.module.css';

/**
 * The run page below the server render: the run as first loaded, then every runUpdated event
 * (status, progress, checkpoints, grids with fresh URLs) replaces it, so nothing needs a reload.
 */
export function RunView({
  initialRun,
  dataset,
  teamSlug,
  canAct,
}: {
  initialRun: RunDetail;
  dataset: DatasetVersionInfo;
  teamSlug: string;
  /** Members and up cancel, resume, fork, delete and publish; a viewer sees no buttons the API would refuse. */
  canAct: boolean;
}) {
  const [run, setRun] = useState(initialRun);
  const [refreshError, setRefreshError] = useState<string | null>(null);
  // Counts runUpdated events: the hub sends one after a trainer's last output is stored (that can come after the
  // final status), and the logs must be re-read then even though nothing else about the run changed.
  const [events, setEvents] = useState(0);
  const [compared, setCompared] = useState<RunOption[]>([]);
  const live = isLive(run.status);

  useSubscription(RunUpdatedSubscription, { id: initialRun.id }, (data) => {
    setRun(readRunDetail(data.runUpdated));
    setEvents((n) => n + 1);
  });

  // After an action, or when grid URLs expired: ask once instead of waiting for the next event.
  const refresh = useCallback(async () => {
    const result = await request(RunDetailQuery, { id: initialRun.id });
    if (result.ok) {
      setRun(readRunDetail(result.data.run));
      setRefreshError(null);
    } else setRefreshError(result.errors[0]?.message ?? 'Could not reload the run');
  }, [initialRun.id]);

  // Changes whenever the trainer reported something worth re-reading the logs for.
  const version = `${run.status}:${run.progress.step}:${run.checkpoints.length}:${run.sampleGrids.length}:${run.attempt}:${events}`;

  return (
    <div className="page" data-testid="run-page" data-status={run.status}>
      <div className={styles.top}>
        <RunHeader run={run} teamSlug={teamSlug} />
        {canAct ? <RunActions run={run} teamSlug={teamSlug} onChanged={() => void refresh()} /> : null}
      </div>
      {refreshError ? (
        <div className="alert alert-error" role="alert">
          {refreshError}
        </div>
      ) : null}
      <MetricsPanel
        runId={run.id}
        runName={run.name}
        teamId={run.teamId}
        metricKeys={run.metricKeys}
        live={live}
        compared={compared}
        onCompareChange={setCompared}
      />
      {compared.length > 0 ? (
        <CompareEvaluations
          runs={[{ id: run.id, name: run.name, status: run.status }, ...compared]}
          teamSlug={teamSlug}
        />
      ) : null}
      <div className={styles.twoColumns}>
        <SampleTimeline
          runName={run.name}
          grids={run.sampleGrids}
          config={run.config}
          labelNames={dataset?.labels.map((l) => l.label) ?? []}
          compared={compared}
          onStaleUrl={() => void refresh()}
        />
        <CheckpointsTable run={run} teamSlug={teamSlug} canPublish={canAct} />
      </div>
      <LogsTail runId={run.id} live={live} version={version} />
      <ReproInfo run={run} dataset={dataset} teamSlug={teamSlug} />
    </div>
  );
}
