import { formatBytes, formatDuration } from '../../lib/upload/rate';
import type { UploadPhase } from './send-upload';
import { Progress } from '../Progress';

const LISTED_FILES = 50;

/**
 * The items of an upload (files, or packs of many files) with the total and per-item progress, the picked files
 * sent so far, speed and time left while sending.
 */
export function UploadSummary({
  files,
  fileCount = files.length,
  phase,
  stored,
  onClear,
}: {
  files: readonly { path: string; size: number }[];
  /** How many picked files the items carry (a pack holds many). */
  fileCount?: number;
  phase: UploadPhase;
  /** Bytes already stored per file index, shown while idle (a resumable upload). */
  stored?: ReadonlyMap<number, number>;
  onClear?: () => void;
}) {
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  const sentOf = (index: number, size: number) =>
    phase.kind === 'sending'
      ? (phase.sent.get(index) ?? 0)
      : phase.kind === 'completing'
        ? size
        : (stored?.get(index) ?? 0);
  const sentTotal =
    phase.kind === 'sending'
      ? phase.total
      : phase.kind === 'completing'
        ? totalBytes
        : [...(stored?.values() ?? [])].reduce((a, b) => a + b, 0);
  return (
    <div className="upload-summary" aria-live="polite">
      <div className="upload-total">
        <div>
          <strong data-testid="upload-file-count">
            {phase.kind === 'sending' && phase.filesSent !== undefined
              ? `${phase.filesSent.toLocaleString('en')} of ${fileCount.toLocaleString('en')} files sent`
              : phase.kind === 'completing'
                ? `${fileCount.toLocaleString('en')} of ${fileCount.toLocaleString('en')} files sent`
                : `${fileCount.toLocaleString('en')} ${fileCount === 1 ? 'file' : 'files'}`}
          </strong>{' '}
          · {phase.kind === 'sending' ? `${formatBytes(Math.min(phase.total, totalBytes))} of ` : ''}
          {formatBytes(totalBytes)}
          {phase.kind === 'sending' && phase.rate > 0
            ? ` · ${formatBytes(phase.rate)}/s${phase.eta !== null ? ` · ${formatDuration(phase.eta)} left` : ''}`
            : phase.kind === 'completing'
              ? ' · checking the upload…'
              : ''}
        </div>
        {phase.kind === 'idle' && onClear ? (
          <button type="button" className="btn btn-ghost btn-sm" onClick={onClear}>
            Clear
          </button>
        ) : null}
      </div>
      <Progress label="Total upload progress" fraction={totalBytes > 0 ? sentTotal / totalBytes : 0} />
      <ul className="list upload-files">
        {files.slice(0, LISTED_FILES).map((f, index) => (
          <li key={f.path} className="upload-file">
            <span className="mono upload-path">{f.path}</span>
            <span className="muted">{formatBytes(f.size)}</span>
            <Progress
              label={`${f.path} upload progress`}
              fraction={f.size > 0 ? sentOf(index, f.size) / f.size : 1}
              className="progress-sm"
            />
          </li>
        ))}
      </ul>
      {files.length > LISTED_FILES ? <p className="muted">and {files.length - LISTED_FILES} more</p> : null}
    </div>
  );
}
