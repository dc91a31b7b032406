import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { ViewerCannot } from '../../../../../../../components/EmptyStates';
import { DatasetQuery } from '../../../../../../../graphql/operations/datasets';
import { canContribute } from '../../../../../../../graphql/roles';
import { serverRequest, unwrapFound } from '../../../../../../../lib/server-graphql';
import { loadTeam } from '../../../../../../../lib/team';
import { NewDatasetForm } from '../../new/NewDatasetForm';

export const metadata: Metadata = { title: 'Upload a new version' };

/** Uploads files into an existing dataset (empty, failed or ready): they become its next version. */
export default async function UploadVersionPage({ params }: { params: Promise<{ slug: string; datasetId: string }> }) {
  const { slug, datasetId } = await params;
  const load = await loadTeam(slug);
  if (load.kind !== 'ok') return null; // the layout shows why
  const result = await serverRequest(DatasetQuery, { id: datasetId });
  const dataset = unwrapFound(result, 'load the dataset').dataset;
  if (dataset.teamId !== load.team.id) notFound();
  const next = (dataset.versions[0]?.number ?? 0) + 1;
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <p className="muted">
            <Link href={`/t/${slug}/datasets`}>Datasets</Link> /{' '}
            <Link href={`/t/${slug}/datasets/${dataset.id}`}>{dataset.name}</Link> /
          </p>
          <h1>Upload version {next}</h1>
          <p className="muted">
            The files you upload become version {next} of “{dataset.name}” ({dataset.resolution}×{dataset.resolution},{' '}
            {dataset.channels === 1 ? 'grayscale' : 'RGB'}); earlier versions stay as they are.
          </p>
        </div>
      </div>
      {canContribute(load.team.viewerRole) ? (
        <NewDatasetForm
          teamId={load.team.id}
          teamSlug={load.team.slug}
          existing={{ id: dataset.id, name: dataset.name }}
        />
      ) : (
        <ViewerCannot teamName={load.team.name} action="upload datasets" />
      )}
    </div>
  );
}
