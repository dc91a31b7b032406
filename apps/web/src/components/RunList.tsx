import Link from 'next/link';
import type { RunSummary } from '../lib/team-content';
import { enumText } from '../lib/enum-text';
import { formatDate } from '../lib/format';
import { CancelRunButton } from './CancelRunButton';
import { Progress } from './Progress';
import { canCancel, formatEta, STATUS_BADGE } from './runs/run-status';

/** Runs newest first: status, progress bar with step count and ETA. */
/** `canAct`: the viewer may cancel runs (members and up; viewers only look, as the API has it). */
export function RunList({
  runs,
  teamSlug,
  canAct,
}: {
  runs: readonly RunSummary[];
  teamSlug: string;
  canAct: boolean;
}) {
  return (
    <ul className="list">
      {runs.map((run) => {
        const status = STATUS_BADGE[run.status] ?? { label: run.status, tone: '' };
        return (
          <li key={run.id} className="list-item" data-testid={`run-${run.name}`}>
            <div className="list-item-main">
              <Link className="list-item-title" href={`/t/${teamSlug}/runs/${run.id}`}>
                {run.name}
              </Link>
              <div className="list-item-sub">
                {enumText(run.config.preset)} · step {run.progress.step.toLocaleString('en')} of{' '}
                {run.progress.totalSteps.toLocaleString('en')}
                {run.progress.etaSeconds != null ? ` · ${formatEta(run.progress.etaSeconds)}` : ''} ·{' '}
                {formatDate(run.createdAt)}
              </div>
              <Progress label={`${run.name} progress`} fraction={run.progress.fraction} />
            </div>
            <div className="list-item-actions">
              <span className={`badge ${status.tone}`}>{status.label}</span>
              {canAct && canCancel(run.status) ? <CancelRunButton runId={run.id} runName={run.name} /> : null}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
