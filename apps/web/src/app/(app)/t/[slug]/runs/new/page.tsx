import type { Metadata } from 'next';
import Link from 'next/link';
import { FineTuneBaseQuery, RunPresetsQuery, StartRunDatasetsQuery } from '../../../../../../graphql/operations/runs';
import { ViewerCannot } from '../../../../../../components/EmptyStates';
import { canContribute } from '../../../../../../graphql/roles';
import { serverRequest, unwrap } from '../../../../../../lib/server-graphql';
import { loadTeam } from '../../../../../../lib/team';
import { fineTuneBase, type FineTuneBase } from './fine-tune-base';
import { StartRunForm, type DatasetChoice } from './StartRunForm';

export const metadata: Metadata = { title: 'Start a run' };

type Props = { params: Promise<{ slug: string }>; searchParams: Promise<{ fromModelVersion?: string | string[] }> };

export default async function StartRunPage({ params, searchParams }: Props) {
  const [{ slug }, query] = await Promise.all([params, searchParams]);
  const load = await loadTeam(slug);
  if (load.kind !== 'ok') return null; // the layout shows why
  const baseId = Array.isArray(query.fromModelVersion) ? query.fromModelVersion[0] : query.fromModelVersion;
  const [datasets, baseResult] = await Promise.all([
    serverRequest(StartRunDatasetsQuery, { teamId: load.team.id }).then(
      (r) => unwrap(r, 'load the team’s datasets').datasets,
    ),
    baseId ? serverRequest(FineTuneBaseQuery, { id: baseId }) : null,
  ]);
  const base: FineTuneBase | null = baseResult?.ok ? fineTuneBase(baseResult.data.modelVersion) : null;
  // Runs train on a prepared (READY) version; the newest ready version of each dataset is offered. A fine-tune
  // only on datasets of the base's image size and channels (its weights are built for them).
  const choices: DatasetChoice[] = datasets.flatMap((d) => {
    const ready = d.versions.find((v) => v.status === 'READY');
    if (!ready || (base && (d.resolution !== base.resolution || d.channels !== base.channels))) return [];
    const labels = ready.labels.map((l) => l.label);
    const labelText = labels.length ? ` · ${labels.length} ${labels.length === 1 ? 'label' : 'labels'}` : '';
    return [
      {
        versionId: ready.id,
        resolution: d.resolution,
        labels,
        label: `${d.name} · v${ready.number} · ${ready.acceptedCount} images · ${d.resolution}×${d.resolution}${labelText}`,
      },
    ];
  });
  // The presets and their defaults on the first dataset offered (the form asks again for another one).
  const presets = unwrap(
    await serverRequest(RunPresetsQuery, { datasetVersionId: choices[0]?.versionId ?? null }),
    'load the run presets',
  ).runPresets;
  return (
    <div className="page page-narrow">
      <div className="page-header">
        <div>
          <h1>{base ? 'Fine-tune a model' : 'Start a run'}</h1>
          <p className="muted">
            {base
              ? `Continue training ${base.label} on one of ${load.team.name}’s datasets: the run starts from its weights with a fresh optimizer.`
              : `Train a diffusion model or a flow on one of ${load.team.name}’s datasets. Presets set sensible defaults; change any of them below.`}
          </p>
        </div>
      </div>
      {!canContribute(load.team.viewerRole) ? (
        <ViewerCannot teamName={load.team.name} action="start runs" />
      ) : baseId && !base ? (
        <div className="card empty" role="alert">
          <h3>Model version not available</h3>
          <p>
            The model version to fine-tune was not found, or you may not read it. You can still start a run from
            scratch.
          </p>
          <Link href={`/t/${load.team.slug}/runs/new`} className="btn btn-sm">
            Start a run from scratch
          </Link>
        </div>
      ) : choices.length === 0 ? (
        <div className="card empty">
          <h3>
            {base
              ? `No prepared ${base.resolution}×${base.resolution} ${base.channels === 1 ? 'grayscale' : 'RGB'} dataset`
              : 'No prepared dataset yet'}
          </h3>
          <p>
            {base
              ? `${base.label} was trained on ${base.resolution}×${base.resolution} images; a fine-tune needs a prepared dataset of that size and colour.`
              : 'A run trains on a prepared dataset version. Upload one first; it is ready to train on once its preparation finishes.'}
          </p>
          <Link href={`/t/${load.team.slug}/datasets/new`} className="btn btn-primary btn-sm">
            Upload a dataset
          </Link>
        </div>
      ) : (
        <StartRunForm teamSlug={load.team.slug} datasets={choices} presets={presets} base={base} />
      )}
    </div>
  );
}
