import type { Metadata } from 'next';
import { NoModels } from '../../../../../components/models/NoModels';
import { ModelGallery } from '../../../../../components/models/ModelGallery';
import { TeamModelsQuery } from '../../../../../graphql/operations/models';
import { serverRequest, unwrap } from '../../../../../lib/server-graphql';
import { loadTeam } from '../../../../../lib/team';

export const metadata: Metadata = { title: 'Models' };

export default async function ModelsPage({ params }: { params: Promise<{ slug: string }> }) {
  const load = await loadTeam((await params).slug);
  if (load.kind !== 'ok') return null; // the layout shows why
  const models = unwrap(
    await serverRequest(TeamModelsQuery, { teamId: load.team.id, first: 100 }),
    'load the team’s models',
  ).models;
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Models</h1>
          <p className="muted">Published checkpoints of {load.team.name}’s runs, and models shared with the team.</p>
        </div>
      </div>
      {models.length === 0 ? (
        <NoModels teamSlug={load.team.slug} />
      ) : (
        <ModelGallery models={models} teamId={load.team.id} teamSlug={load.team.slug} />
      )}
    </div>
  );
}
