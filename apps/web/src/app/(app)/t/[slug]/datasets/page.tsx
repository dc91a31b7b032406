import type { Metadata } from 'next';
import { DatasetList } from '../../../../../components/DatasetList';
import { NoDatasets } from '../../../../../components/EmptyStates';
import { loadTeam } from '../../../../../lib/team';
import { loadDatasets } from '../../../../../lib/team-content';

export const metadata: Metadata = { title: 'Datasets' };

export default async function DatasetsPage({ params }: { params: Promise<{ slug: string }> }) {
  const load = await loadTeam((await params).slug);
  if (load.kind !== 'ok') return null; // the layout shows why
  const datasets = await loadDatasets(load.team.id);
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Datasets</h1>
          <p className="muted">Image collections of {load.team.name}, each with immutable prepared versions to train on.</p>
        </div>
      </div>
      <section className="card" aria-labelledby="datasets-heading">
        <div className="card-header">
          <h2 id="datasets-heading">
            {datasets.length} {datasets.length === 1 ? 'dataset' : 'datasets'}
          </h2>
        </div>
        {datasets.length === 0 ? <NoDatasets /> : <DatasetList datasets={datasets} />}
      </section>
    </div>
  );
}
