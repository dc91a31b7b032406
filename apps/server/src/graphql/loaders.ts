import DataLoader from 'dataloader';
import type {
  Evaluation,
  Model,
  ModelAlias,
  ModelVersion,
  RunCheckpoint,
  RunEvent,
  SampleGrid,
  TeamRole,
} from '@dapple/db';
import type { ModelAccess } from '../services/models/index.ts';
import type { Services } from '../services/index.ts';
import type { Viewer } from '../services/types.ts';

/**
 * Per-operation dataloaders for the fields every row of a list asks for (Run.checkpoints, events, metricKeys,
 * sampleGrids, publishedModelVersions; Model.versions, aliases; ModelVersion.aliases, createdBy, evaluations): the rows' keys collected in one tick become one query, instead of one query per row and field.
 *
 * `cache: false`: only batching, no memo. A subscription re-resolves the same run with the same context after
 * every change, and must see new checkpoints and events; within one operation nothing asks twice anyway.
 */
export function createLoaders(services: Services, viewer: Viewer | null) {
  const batch = <V>(load: (keys: readonly string[]) => Promise<V[]>) =>
    new DataLoader<string, V>(load, { cache: false });
  return {
    runCheckpoints: batch<RunCheckpoint[]>((ids) => services.runs.checkpointsOfRuns(ids)),
    runEvents: batch<RunEvent[]>((ids) => services.runs.eventsOfRuns(ids)),
    runMetricKeys: batch<string[]>((ids) => services.runs.metricKeysOfRuns(ids)),
    runSampleGrids: batch<SampleGrid[]>((ids) => services.runs.sampleGridsOfRuns(ids)),
    /** What the operation's viewer may do with each model (signed in, no share link). */
    modelAccess: new DataLoader<Model, ModelAccess>((models) => services.modelAccess.accessToMany({ viewer }, models), {
      cache: false,
    }),
    runModelVersions: batch<{ version: ModelVersion; model: Model }[]>((ids) => services.models.versionsOfRuns(ids)),
    modelVersions: batch<ModelVersion[]>((ids) => services.models.versionsOfModels(ids)),
    versionEvaluations: batch<Evaluation[]>((ids) => services.evaluations.ofVersions(ids)),
    modelAliases: batch<ModelAlias[]>((ids) => services.modelAliases.listOfModels(ids)),
    userNames: batch<string | null>((ids) => services.models.creatorNames(ids)),
    /** The operation's viewer's role in each team (null: not a member), for permission fields such as viewerCanCancel. */
    viewerTeamRoles: batch<TeamRole | null>((teamIds) =>
      viewer ? services.teams.rolesOf(viewer.user.id, teamIds) : Promise.resolve(teamIds.map(() => null)),
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
