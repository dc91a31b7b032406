import { Progress } from '../Progress';
import styles from './models.module.css';

/** A progress bar with its label shown before it. */
export function ProgressBar({ label, fraction }: { label: string; fraction: number }) {
  return (
    <div className={styles.progressRow}>
      <span>{label}</span>
      <Progress label={label} fraction={fraction} className={styles.progressBar} />
    </div>
  );
}
