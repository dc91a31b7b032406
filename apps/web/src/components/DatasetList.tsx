import Link from 'next/link';
import type { DatasetSummary } from '../lib/team-content';
import { formatDate } from '../lib/format';
import { ImagesIcon } from './Icons';

const VERSION_STATUS: Record<string, { label: string; tone: string }> = {
  READY: { label: 'Ready', tone: 'badge-accent' },
  PREPARING: { label: 'Preparing', tone: '' },
  FAILED: { label: 'Failed', tone: 'badge-danger' },
};

/** Datasets with their newest version: preview, status and image counts. */
export function DatasetList({ datasets, teamSlug }: { datasets: readonly DatasetSummary[]; teamSlug: string }) {
  return (
    <ul className="list">
      {datasets.map((dataset) => {
        const latest = dataset.versions[0];
        const status = latest ? VERSION_STATUS[latest.status] : undefined;
        return (
          <li key={dataset.id} className="list-item" data-testid={`dataset-${dataset.name}`}>
            {latest?.previewUrl ? (
              <img
                className="thumb"
                src={latest.previewUrl}
                alt={`Preview of ${dataset.name}`}
                width={48}
                height={48}
              />
            ) : (
              <span className="thumb thumb-empty" aria-hidden="true">
                <ImagesIcon />
              </span>
            )}
            <div className="list-item-main">
              <div className="list-item-title">
                <Link href={`/t/${teamSlug}/datasets/${dataset.id}`}>{dataset.name}</Link>
              </div>
              <div className="list-item-sub">
                {dataset.resolution}×{dataset.resolution} · {dataset.channels === 1 ? 'grayscale' : 'RGB'} ·{' '}
                {latest
                  ? `v${latest.number}: ${latest.acceptedCount} images${latest.rejectedCount ? `, ${latest.rejectedCount} rejected` : ''}`
                  : `no versions yet · created ${formatDate(dataset.createdAt)}`}
              </div>
            </div>
            <div className="list-item-actions">
              {status ? (
                <span className={`badge ${status.tone}`}>{status.label}</span>
              ) : (
                <span className="badge">Empty</span>
              )}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
