import type { Metadata } from 'next';
import Link from 'next/link';
import { DatasetList } from '../../../../../components/DatasetList';
import { LiveListRefresh } from '../../../../../components/LiveListRefresh';
import { PlusIcon } from '../../../../../components/Icons';
import { NoDatasets } from '../../../../../components/EmptyStates';
import { canContribute } from '../../../../../graphql/roles';
import { loadTeam } from '../../../../../lib/team';
import { loadDatasets } from '../../../../../lib/team-content';

export const metadata: Metadata = { title: 'Datasets' };

export default async function DatasetsPage({ params }: { params: Promise<{ slug: string }> }) {
  const load = await loadTeam((await params).slug);
  if (load.kind !== 'ok') return null; // the layout shows why
  const datasets = await loadDatasets(load.team.id);
  const canCreate = canContribute(load.team.viewerRole);
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Datasets</h1>
          <p className="muted">
            Image collections of {load.team.name}, each with immutable prepared versions to train on.
          </p>
        </div>
        {canCreate ? (
          <Link href={`/t/${load.team.slug}/datasets/new`} className="btn btn-primary">
            <PlusIcon /> New dataset
          </Link>
        ) : null}
      </div>
      <section className="card" aria-labelledby="datasets-heading">
        <div className="card-header">
          <h2 id="datasets-heading">
            {datasets.length} {datasets.length === 1 ? 'dataset' : 'datasets'}
          </h2>
          {/* Re-rendered from the server when a dataset of the team is added, prepared or deleted (teamActivity). */}
          <LiveListRefresh teamId={load.team.id} kind="DATASET" />
        </div>
        {datasets.length === 0 ? (
          <NoDatasets teamSlug={load.team.slug} canCreate={canCreate} />
        ) : (
          <DatasetList datasets={datasets} teamSlug={load.team.slug} />
        )}
      </section>
    </div>
  );
}
