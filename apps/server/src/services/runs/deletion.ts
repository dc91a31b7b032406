import { and, eq } from 'drizzle-orm';
import { checkpoints, models, modelVersions, runs, sampleGrids, type Run } from '@dapple/db';
import type { ObjectStore } from '@dapple/storage';
import { requireViewer } from '../auth/index.ts';
import { conflict } from '../errors.ts';
import type { TeamService } from '../teams/index.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import { runPrefix } from './objects.ts';
import type { RunService } from './runs.ts';
import { isActive, lockRun } from './state.ts';

/** What a run keeps in the object store: what deleting it frees. */
export interface RunStorage {
  checkpoints: number;
  sampleGrids: number;
  /** Every object under runs/<id>/ (checkpoint files, grids, anything else the trainer wrote). */
  objects: number;
  bytes: number;
}

/** A published model version that keeps a run from being deleted. */
export interface PublishedFrom {
  modelId: string;
  modelName: string;
  versionNumber: number;
}

/**
 * Deleting a run: its stored objects (checkpoints, sample grids), then its row (events, metrics, logs, tokens,
 * checkpoint and grid rows go with it by cascade). Refused while the run is active (cancel it first) and while
 * model versions published from it exist: a version records the run it came from (lineage), so those versions
 * are deleted first, deliberately (their weights are their own copy: the run's checkpoints are not needed by them).
 * Members may delete the runs they started; admins and owners any run of the team.
 */
export class RunDeletion {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly runs: RunService,
    private readonly teams: TeamService,
    private readonly store: ObjectStore,
  ) {}

  /** Bytes and objects under the run's prefix, with its checkpoint and grid counts. */
  async storage(run: Run): Promise<RunStorage> {
    let objects = 0;
    let bytes = 0;
    for await (const o of this.store.list(`${runPrefix(run.id)}/`)) {
      objects += 1;
      bytes += o.size;
    }
    const [ckpts, grids] = await Promise.all([
      this.deps.db.$count(checkpoints, eq(checkpoints.runId, run.id)),
      this.deps.db.$count(sampleGrids, eq(sampleGrids.runId, run.id)),
    ]);
    return { checkpoints: ckpts, sampleGrids: grids, objects, bytes };
  }

  /** Model versions published from the run (newest model first): why it cannot be deleted yet. */
  async publishedFrom(runId: string): Promise<PublishedFrom[]> {
    const rows = await this.deps.db
      .select({ modelId: models.id, modelName: models.name, versionNumber: modelVersions.number })
      .from(modelVersions)
      .innerJoin(models, eq(models.id, modelVersions.modelId))
      .where(eq(modelVersions.runId, runId))
      .orderBy(models.name, modelVersions.number);
    return rows;
  }

  async delete(meta: RequestMeta, id: string): Promise<RunStorage> {
    const viewer = requireViewer(meta);
    const run = await this.runs.get(meta, id, 'member');
    if (run.createdBy !== viewer.user.id) await this.teams.requireTeamRole(meta, run.teamId, 'admin');
    const published = await this.publishedFrom(run.id);
    if (published.length > 0) throw publishedConflict(run, published);
    const freed = await this.storage(run);
    // Mark it first, under the row lock, so the scheduler cannot start it while its objects go.
    await this.deps.db.transaction(async (tx) => {
      const locked = await lockRun(tx, run.id);
      if (!locked) return;
      if (locked.status === 'queued' || isActive(locked.status) || locked.status === 'lost') {
        throw conflict(`Run "${locked.name}" is ${locked.status}: cancel it first, then delete it`);
      }
    });
    await this.store.deletePrefix(`${runPrefix(run.id)}/`);
    // A publish that raced the check above holds a version row: the foreign key refuses the delete, said plainly.
    try {
      await this.deps.db.delete(runs).where(and(eq(runs.id, run.id), eq(runs.teamId, run.teamId)));
    } catch (err) {
      const now = await this.publishedFrom(run.id);
      if (now.length > 0) throw publishedConflict(run, now);
      throw err;
    }
    return freed;
  }
}

function publishedConflict(run: Run, published: PublishedFrom[]) {
  const list = published.map((p) => `${p.modelName} v${p.versionNumber}`).join(', ');
  return conflict(
    `Run "${run.name}" cannot be deleted: model versions were published from it (${list}). ` +
      'Delete those versions first (they keep their own copy of the weights), or keep the run.',
  );
}
