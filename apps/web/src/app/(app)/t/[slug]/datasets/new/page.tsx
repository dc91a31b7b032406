import type { Metadata } from 'next';
import { ViewerCannot } from '../../../../../../components/EmptyStates';
import { canContribute } from '../../../../../../graphql/roles';
import { loadTeam } from '../../../../../../lib/team';
import { NewDatasetForm } from './NewDatasetForm';

export const metadata: Metadata = { title: 'New dataset' };

export default async function NewDatasetPage({ params }: { params: Promise<{ slug: string }> }) {
  const load = await loadTeam((await params).slug);
  if (load.kind !== 'ok') return null; // the layout shows why
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>New dataset</h1>
          <p className="muted">
            Images are checked, de-duplicated and resized to a square on the server. Put them in one sub-folder per
            class to give them labels.
          </p>
        </div>
      </div>
      {canContribute(load.team.viewerRole) ? (
        <NewDatasetForm teamId={load.team.id} teamSlug={load.team.slug} />
      ) : (
        <ViewerCannot teamName={load.team.name} action="upload datasets" />
      )}
    </div>
  );
}
