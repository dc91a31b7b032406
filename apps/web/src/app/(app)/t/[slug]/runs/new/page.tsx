import type { Metadata } from 'next';
import Link from 'next/link';
import { loadTeam } from '../../../../../../lib/team';
import { loadDatasets } from '../../../../../../lib/team-content';
import { StartRunForm, type DatasetChoice } from './StartRunForm';

export const metadata: Metadata = { title: 'Start a run' };

export default async function StartRunPage({ params }: { params: Promise<{ slug: string }> }) {
  const load = await loadTeam((await params).slug);
  if (load.kind !== 'ok') return null; // the layout shows why
  const datasets = await loadDatasets(load.team.id);
  // Runs train on a prepared (READY) version; the newest ready version of each dataset is offered.
  const choices: DatasetChoice[] = datasets.flatMap((d) => {
    const ready = d.versions.find((v) => v.status === 'READY');
    return ready ? [{ versionId: ready.id, resolution: d.resolution, label: `${d.name} · v${ready.number} · ${ready.acceptedCount} images · ${d.resolution}×${d.resolution}` }] : [];
  });
  return (
    <div className="page page-narrow">
      <div className="page-header">
        <div>
          <h1>Start a run</h1>
          <p className="muted">Train a diffusion model on one of {load.team.name}’s datasets. Presets set sensible defaults; change any of them below.</p>
        </div>
      </div>
      {choices.length === 0 ? (
        <div className="card empty">
          <h3>No prepared dataset yet</h3>
          <p>A run trains on a prepared dataset version. Upload one first; it is ready to train on once its preparation finishes.</p>
          <Link href={`/t/${load.team.slug}/datasets/new`} className="btn btn-primary btn-sm">
            Upload a dataset
          </Link>
        </div>
      ) : (
        <StartRunForm teamSlug={load.team.slug} datasets={choices} />
      )}
    </div>
  );
}
