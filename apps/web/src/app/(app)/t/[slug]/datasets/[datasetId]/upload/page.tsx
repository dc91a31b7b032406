import type { Metadata } from 'next';
import Link from 'next/link';
import { ViewerCannot } from '../../../../../../../components/EmptyStates';
import { canContribute } from '../../../../../../../graphql/roles';
import { loadTeamDataset } from '../../../../../../../lib/team-content';
import { NewDatasetForm } from '../../new/NewDatasetForm';

export const metadata: Metadata = { title: 'Upload a new version' };

/** Uploads files into an existing dataset (empty, failed or ready): they become its next version. */
export default async function UploadVersionPage({ params }: { params: Promise<{ slug: string; datasetId: string }> }) {
  const { slug, datasetId } = await params;
  const loaded = await loadTeamDataset(slug, datasetId);
  if (!loaded) return null; // the layout shows why
  const { team, dataset } = loaded;
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
      {canContribute(team.viewerRole) ? (
        <NewDatasetForm teamId={team.id} teamSlug={team.slug} existing={{ id: dataset.id, name: dataset.name }} />
      ) : (
        <ViewerCannot teamName={team.name} action="upload datasets" />
      )}
    </div>
  );
}
