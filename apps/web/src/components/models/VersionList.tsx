import { CopyId } from '../CopyId';
import Link from 'next/link';
import { formatDateTime } from '../../lib/format';
import { DeleteVersionButton } from './DeleteVersionButton';
import { ExportButton } from './ExportButton';
import { formatBytes, formatMetric } from './format';
import styles from './models.module.css';

export interface VersionSummary {
  id: string;
  number: number;
  runId: string;
  step: number;
  createdAt: string;
  createdBy?: string | null;
  aliases: readonly string[];
  weightsBytes: number;
  weightsPrecision: string;
  metrics: readonly { key: string; last?: number | null; mean?: number | null }[];
}

/** Metrics shown in the version rows (the full snapshot is in the metrics section). */
const HEADLINE_METRICS = ['loss', 'loss_ema', 'grad_norm'];

/**
 * Every version with where it came from (run and step), when, its aliases and a metrics snapshot.
 * `versionHref` links a version to the page showing it; `runHref` is absent where runs are not visible
 * (share links).
 */
export function VersionList({
  versions,
  selectedId,
  versionHref,
  runHref,
  canDelete,
  shareToken,
}: {
  versions: readonly VersionSummary[];
  selectedId: string | undefined;
  versionHref: (number: number) => string;
  runHref?: (runId: string) => string;
  canDelete: boolean;
  shareToken?: string;
}) {
  return (
    <ul className="list" aria-label="Versions">
      {versions.map((v) => {
        const headline = v.metrics.filter((m) => HEADLINE_METRICS.includes(m.key));
        return (
          <li
            key={v.id}
            className={`list-item ${styles.versionRow}`}
            data-testid={`version-${v.number}`}
            aria-current={v.id === selectedId ? 'true' : undefined}
          >
            <div className="list-item-main">
              <div className="list-item-title">
                <Link href={versionHref(v.number)} scroll={false}>
                  Version {v.number}
                </Link>{' '}
                {v.aliases.map((a) => (
                  <span key={a} className={`badge ${a === 'latest' ? 'badge-accent' : ''}`} style={{ marginLeft: 4 }}>
                    {a}
                  </span>
                ))}
                {v.id === selectedId ? <span className="visually-hidden"> (shown)</span> : null}
              </div>
              <div className="list-item-sub">
                {runHref ? (
                  <Link href={runHref(v.runId)} prefetch={false}>
                    run
                  </Link>
                ) : (
                  'run'
                )}{' '}
                at step {v.step.toLocaleString('en')} · {formatDateTime(v.createdAt)}
                {v.createdBy ? ` by ${v.createdBy}` : ''} · {formatBytes(v.weightsBytes)}{' '}
                {v.weightsPrecision.toLowerCase()}
              </div>
              <div className="list-item-sub">
                <CopyId label="Version id" value={v.id} />
              </div>
              {headline.length > 0 ? (
                <div className={styles.metricsInline}>
                  {headline.map((m) => (
                    <span key={m.key}>
                      <span className="mono">{m.key}</span> {formatMetric(m.last)}
                    </span>
                  ))}
                </div>
              ) : null}
            </div>
            <div className="list-item-actions" style={{ flexWrap: 'wrap' }}>
              <ExportButton versionId={v.id} number={v.number} {...(shareToken ? { shareToken } : {})} />
              {canDelete ? <DeleteVersionButton versionId={v.id} number={v.number} /> : null}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
