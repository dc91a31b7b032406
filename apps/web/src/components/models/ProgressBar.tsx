import styles from './models.module.css';

/** A labelled progress bar that assistive technology reads as one (role=progressbar with a value). */
export function ProgressBar({ label, fraction }: { label: string; fraction: number }) {
  const percent = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  return (
    <div className={styles.progressRow}>
      <span>{label}</span>
      <div
        className={`progress ${styles.progressBar}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <span style={{ width: `${percent}%` }} />
      </div>
    </div>
  );
}
