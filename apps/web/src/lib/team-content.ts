import { notFound } from 'next/navigation';
import { DatasetQuery, TeamDatasetsQuery } from '../graphql/operations/datasets';
import { TeamRunsQuery } from '../graphql/operations/runs';
import type { ResultOf } from '../graphql/tada';
import { serverRequest, unwrap, unwrapFound } from './server-graphql';
import { loadTeam, type TeamDetails } from './team';

export type DatasetSummary = ResultOf<typeof TeamDatasetsQuery>['datasets'][number];
export type RunSummary = ResultOf<typeof TeamRunsQuery>['runs']['nodes'][number];

export async function loadDatasets(teamId: string): Promise<readonly DatasetSummary[]> {
  return unwrap(await serverRequest(TeamDatasetsQuery, { teamId }), 'load the team’s datasets').datasets;
}

export async function loadRuns(teamId: string, first = 20): Promise<readonly RunSummary[]> {
  return unwrap(await serverRequest(TeamRunsQuery, { teamId, first }), 'load the team’s runs').runs.nodes;
}

export type DatasetDetails = ResultOf<typeof DatasetQuery>['dataset'];

/**
 * The team of a `/t/[slug]/datasets/[datasetId]` page and the dataset, which must be the team's (otherwise not
 * found); null when the team itself cannot be shown (the layout says why).
 */
export async function loadTeamDataset(
  slug: string,
  datasetId: string,
): Promise<{ team: TeamDetails; dataset: DatasetDetails } | null> {
  const load = await loadTeam(slug);
  if (load.kind !== 'ok') return null;
  const dataset = unwrapFound(await serverRequest(DatasetQuery, { id: datasetId }), 'load the dataset').dataset;
  if (dataset.teamId !== load.team.id) notFound();
  return { team: load.team, dataset };
}
