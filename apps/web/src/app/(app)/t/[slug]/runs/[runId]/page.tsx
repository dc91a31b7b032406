import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import type { DatasetVersionInfo } from '../../../../../../components/runs/ReproInfo';
import { RunView } from '../../../../../../components/runs/RunView';
import { readRunDetail, RunDatasetVersionQuery, RunDetailQuery } from '../../../../../../graphql/operations/run-detail';
import { serverRequest, unwrapFound } from '../../../../../../lib/server-graphql';
import { canContribute } from '../../../../../../graphql/roles';
import { loadTeam } from '../../../../../../lib/team';

type Params = { params: Promise<{ slug: string; runId: string }> };

export const metadata: Metadata = { title: 'Run' };

export default async function RunPage({ params }: Params) {
  const { slug, runId } = await params;
  const load = await loadTeam(slug);
  if (load.kind !== 'ok') return null; // the layout shows why
  const result = await serverRequest(RunDetailQuery, { id: runId });
  const run = readRunDetail(unwrapFound(result, 'load the run').run);
  if (run.teamId !== load.team.id) notFound();
  // The dataset hash is reproducibility info, not the page's reason to exist: shown when it loads.
  let dataset: DatasetVersionInfo = null;
  if (run.datasetVersionId) {
    const version = await serverRequest(RunDatasetVersionQuery, { id: run.datasetVersionId });
    if (version.ok) dataset = version.data.datasetVersion;
  }
  return (
    <RunView
      key={run.id}
      initialRun={run}
      dataset={dataset}
      teamSlug={load.team.slug}
      canAct={canContribute(load.team.viewerRole)}
    />
  );
}
