import Link from 'next/link';
import type { RunDetail } from '../../graphql/operations/run-detail';
import { formatDateTime } from '../../lib/format';
import { CopyId } from '../CopyId';
import { Progress } from '../Progress';
import { attemptLabel, formatEta, STATUS_BADGE } from './run-status';
import { enumText } from '../../lib/enum-text';
import styles from './runs.module.css';

/** Name, status badge and the progress bar with step, speed and ETA. */
export function RunHeader({ run, teamSlug }: { run: RunDetail; teamSlug: string }) {
  const status = STATUS_BADGE[run.status];
  const percent = Math.round(run.progress.fraction * 100);
  const { step, totalSteps, imagesPerSec, etaSeconds } = run.progress;
  const attempt = attemptLabel(run);
  return (
    <div className={styles.header}>
      <p className="muted">
        <Link href={`/t/${teamSlug}/runs`}>Runs</Link> /
      </p>
      <div className={styles.titleRow}>
        <h1>{run.name}</h1>
        <span className={`badge ${status.tone}`} data-testid="run-status">
          {status.label}
        </span>
      </div>
      <p className="muted">
        {enumText(run.config.preset)} · queued {formatDateTime(run.queuedAt)}
        {attempt ? <span data-testid="run-attempt"> · {attempt}</span> : null}
      </p>
      <p>
        <CopyId label="Run id" value={run.id} />
      </p>
      <div className={styles.progressRow}>
        <Progress label="Training progress" fraction={run.progress.fraction} />
        <p className={styles.progressText} data-testid="run-progress">
          step {step.toLocaleString('en')} of {totalSteps.toLocaleString('en')} ({percent}%)
          {imagesPerSec != null ? ` · ${imagesPerSec.toFixed(1)} images/s` : ''}
          {etaSeconds != null ? ` · ${formatEta(etaSeconds)}` : ''}
        </p>
      </div>
      {run.error ? (
        <div className="alert alert-error" role="alert">
          {run.error}
        </div>
      ) : null}
    </div>
  );
}
