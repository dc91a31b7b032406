import type { Metadata } from 'next';
import Link from 'next/link';
import { RefreshWhile } from '../../../../../../components/RefreshWhile';
import { DeleteDataset, DeleteDatasetVersion } from '../../../../../../components/datasets/DeleteDataset';
import { RejectedFilesQuery } from '../../../../../../graphql/operations/datasets';
import { formatDateTime } from '../../../../../../lib/format';
import { rejectReasonLabel } from '../../../../../../lib/reject-reasons';
import { formatBytes } from '../../../../../../lib/upload/rate';
import { serverRequest, unwrap } from '../../../../../../lib/server-graphql';
import { loadTeamDataset } from '../../../../../../lib/team-content';
import { canContribute } from '../../../../../../graphql/roles';
import { CopyId } from '../../../../../../components/CopyId';

type Params = { params: Promise<{ slug: string; datasetId: string }> };

export const metadata: Metadata = { title: 'Dataset' };

const REJECTED_LISTED = 100;

export default async function DatasetPage({ params }: Params) {
  const { slug, datasetId } = await params;
  const loaded = await loadTeamDataset(slug, datasetId);
  if (!loaded) return null; // the layout shows why
  const { team, dataset } = loaded;
  const latest = dataset.versions[0];
  const rejected =
    latest && latest.status === 'READY' && latest.rejectedCount > 0
      ? unwrap(
          await serverRequest(RejectedFilesQuery, { versionId: latest.id, first: REJECTED_LISTED }),
          'load rejected files',
        ).datasetFiles
      : null;
  // Deleting is for admins and owners (the API says so too); others do not see the buttons.
  const canDelete = team.viewerRole === 'OWNER' || team.viewerRole === 'ADMIN';
  const maxLabel = Math.max(1, ...(latest?.labels.map((l) => l.count) ?? []));
  const canUpload = canContribute(team.viewerRole);
  const uploadHref = `/t/${slug}/datasets/${dataset.id}/upload`;

  return (
    <div className="page">
      <RefreshWhile active={latest?.status === 'PREPARING'} />
      <div className="page-header">
        <div>
          <p className="muted">
            <Link href={`/t/${slug}/datasets`}>Datasets</Link> /
          </p>
          <h1>{dataset.name}</h1>
          <p className="muted">
            {dataset.resolution}×{dataset.resolution} · {dataset.channels === 1 ? 'grayscale' : 'RGB'}
            {dataset.description ? ` · ${dataset.description}` : ''}
          </p>
        </div>
        {canUpload && latest ? (
          <Link className="btn btn-secondary" href={uploadHref}>
            Upload a new version
          </Link>
        ) : null}
        {canDelete ? <DeleteDataset datasetId={dataset.id} name={dataset.name} teamSlug={slug} /> : null}
      </div>

      {!latest ? (
        <div className="card empty">
          <h3>No versions yet</h3>
          <p>This dataset has no images yet. Upload some to create its first version.</p>
          {canUpload ? (
            <Link className="btn btn-primary" href={uploadHref}>
              Upload images
            </Link>
          ) : null}
        </div>
      ) : (
        <>
          <div className="stats">
            <Stat label="Images" value={latest.acceptedCount} />
            <Stat label="Rejected" value={latest.rejectedCount} />
            <Stat label="Files uploaded" value={latest.fileCount} />
            <Stat label="Classes" value={latest.labels.length || '—'} />
          </div>

          <section className="card" aria-labelledby="preview-heading">
            <div className="card-header">
              <div>
                <h2 id="preview-heading">
                  Version {latest.number} · <VersionStatus status={latest.status} />
                </h2>
                <p className="muted">
                  {latest.preparedAt
                    ? `Prepared ${formatDateTime(latest.preparedAt)}`
                    : `Uploaded ${formatDateTime(latest.createdAt)}`}
                  {latest.contentHash ? (
                    <>
                      {' '}
                      · <span className="mono">{latest.contentHash.slice(0, 12)}</span>
                    </>
                  ) : null}
                </p>
                <p>
                  <CopyId label="Version id" value={latest.id} />
                </p>
              </div>
            </div>
            <div className="card-body">
              {latest.status === 'PREPARING' ? (
                <p className="muted">Checking, de-duplicating and resizing the images… this page updates by itself.</p>
              ) : null}
              {latest.status === 'FAILED' ? (
                <p className="field-error">
                  Preparation failed: {latest.error ?? 'no reason given'}
                  {canUpload ? (
                    <>
                      {' '}
                      <Link href={uploadHref}>Upload the files again</Link>
                    </>
                  ) : null}
                </p>
              ) : null}
              {latest.previewUrl ? (
                <img className="preview-grid" src={latest.previewUrl} alt={`The first images of ${dataset.name}`} />
              ) : null}
            </div>
          </section>

          {latest.labels.length > 0 ? (
            <section className="card" aria-labelledby="labels-heading">
              <div className="card-header">
                <h2 id="labels-heading">Classes</h2>
              </div>
              <ul className="list">
                {latest.labels.map((label) => (
                  <li key={label.id} className="list-item histogram-row">
                    <span className="histogram-label">{label.label}</span>
                    <span className="histogram-bar" aria-hidden="true">
                      <span style={{ width: `${(label.count / maxLabel) * 100}%` }} />
                    </span>
                    <span className="muted">{label.count}</span>
                  </li>
                ))}
              </ul>
            </section>
          ) : null}

          {rejected ? (
            <section className="card" aria-labelledby="rejected-heading">
              <div className="card-header">
                <div>
                  <h2 id="rejected-heading">Rejected files</h2>
                  <p className="muted">
                    {latest.rejectedByReason
                      .map((r) => `${r.count} ${rejectReasonLabel(r.reason).toLowerCase()}`)
                      .join(' · ')}
                  </p>
                </div>
              </div>
              <ul className="list">
                {rejected.nodes.map((file) => (
                  <li key={file.path} className="list-item" data-testid={`rejected-${file.path}`}>
                    <div className="list-item-main">
                      <div className="list-item-title mono">{file.path}</div>
                      <div className="list-item-sub">
                        {rejectReasonLabel(file.rejectReason)}
                        {file.rejectDetail ? ` — ${file.rejectDetail}` : ''} · {formatBytes(file.size)}
                      </div>
                    </div>
                  </li>
                ))}
              </ul>
              {rejected.hasNextPage ? <p className="card-body muted">Showing the first {REJECTED_LISTED}.</p> : null}
            </section>
          ) : null}

          {dataset.versions.length > 1 || canDelete ? (
            <section className="card" aria-labelledby="versions-heading">
              <div className="card-header">
                <h2 id="versions-heading">Versions</h2>
              </div>
              <ul className="list">
                {dataset.versions.map((v) => (
                  <li key={v.id} className="list-item">
                    <div className="list-item-main">
                      <div className="list-item-title">Version {v.number}</div>
                      <div className="list-item-sub">
                        {v.acceptedCount} images · {v.rejectedCount} rejected · {formatDateTime(v.createdAt)}
                      </div>
                    </div>
                    <VersionStatus status={v.status} />
                    {canDelete && v.status !== 'PREPARING' ? (
                      <DeleteDatasetVersion datasetId={dataset.id} versionId={v.id} number={v.number} />
                    ) : null}
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
        </>
      )}
    </div>
  );
}

function Stat({ label, value }: { label: string; value: number | string }) {
  return (
    <div className="card stat">
      <div className="stat-value">{typeof value === 'number' ? value.toLocaleString('en') : value}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

function VersionStatus({ status }: { status: string }) {
  const tone = status === 'READY' ? 'badge-accent' : status === 'FAILED' ? 'badge-danger' : '';
  const label = status === 'READY' ? 'Ready' : status === 'FAILED' ? 'Failed' : 'Preparing';
  return <span className={`badge ${tone}`}>{label}</span>;
}
