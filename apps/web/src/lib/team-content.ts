import { TeamDatasetsQuery } from '../graphql/operations/datasets';
import { TeamRunsQuery } from '../graphql/operations/runs';
import type { ResultOf } from '../graphql/tada';
import { serverRequest, unwrap } from './server-graphql';

export type DatasetSummary = ResultOf<typeof TeamDatasetsQuery>['datasets'][number];
export type RunSummary = ResultOf<typeof TeamRunsQuery>['runs']['nodes'][number];

export async function loadDatasets(teamId: string): Promise<readonly DatasetSummary[]> {
  return unwrap(await serverRequest(TeamDatasetsQuery, { teamId }), 'load the team’s datasets').datasets;
}

export async function loadRuns(teamId: string, first = 20): Promise<readonly RunSummary[]> {
  return unwrap(await serverRequest(TeamRunsQuery, { teamId, first }), 'load the team’s runs').runs.nodes;
}
