import { and, asc, desc, eq, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import {
  checkpoints,
  metricKeys,
  RUN_STATUSES,
  runEvents,
  runs,
  sampleGrids,
  type Run,
  type RunCheckpoint,
  type RunEvent,
  type RunLog,
  type RunStatus,
  type SampleGrid,
  listMetricKeys,
  queryMetrics,
  MetricsInputError,
  type MetricsQueryResult,
} from '@dapple/db';
import type { ObjectStore } from '@dapple/storage';
import { z } from 'zod';
import { requireViewer } from '../auth/index.ts';
import { badInput, notFound } from '../errors.ts';
import type { TeamService } from '../teams/index.ts';
import type { RequestMeta, ServiceDeps } from '../types.ts';
import type { RunLogStore } from './logs.ts';

export interface RunFilter {
  status?: RunStatus[] | null;
  datasetVersionId?: string | null;
  search?: string | null;
}

export interface RunPage {
  runs: Run[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/** Reading runs: one run (authorised), a team's runs page by page, and what a run has recorded. */
export class RunService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly teams: TeamService,
    private readonly store: ObjectStore,
    private readonly logs: RunLogStore,
  ) {}

  get db() {
    return this.deps.db;
  }

  /** The run if the caller may see it (any team role), else NOT_FOUND (also for other teams' runs) / FORBIDDEN. */
  async get(meta: RequestMeta, id: string, minRole: 'viewer' | 'member' = 'viewer'): Promise<Run> {
    requireViewer(meta);
    if (!z.uuid().safeParse(id).success) throw notFound('Run');
    const [run] = await this.deps.db.select().from(runs).where(eq(runs.id, id));
    if (!run) throw notFound('Run');
    await this.teams.requireTeamRole(meta, run.teamId, minRole, 'Run');
    return run;
  }

  async list(
    meta: RequestMeta,
    teamId: string,
    filter: RunFilter,
    first: number,
    after?: string | null,
  ): Promise<RunPage> {
    await this.teams.requireTeamRole(meta, teamId, 'viewer');
    const limit = Math.max(1, Math.min(first, 100));
    const conditions: SQL[] = [eq(runs.teamId, teamId)];
    if (filter.status?.length) {
      for (const s of filter.status)
        if (!RUN_STATUSES.includes(s)) throw badInput('filter.status', `filter.status: unknown status ${s}`);
      conditions.push(inArray(runs.status, filter.status));
    }
    if (filter.datasetVersionId) {
      if (!z.uuid().safeParse(filter.datasetVersionId).success)
        throw badInput('filter.datasetVersionId', 'filter.datasetVersionId: must be a dataset version id (a UUID)');
      conditions.push(eq(runs.datasetVersionId, filter.datasetVersionId));
    }
    if (filter.search) conditions.push(sql`${runs.name} ILIKE ${`%${filter.search.replace(/[\\%_]/g, '\\$&')}%`}`);
    if (after) {
      const cursor = decodeCursor(after);
      conditions.push(
        or(lt(runs.createdAt, cursor.createdAt), and(eq(runs.createdAt, cursor.createdAt), lt(runs.id, cursor.id)))!,
      );
    }
    const rows = await this.deps.db
      .select()
      .from(runs)
      .where(and(...conditions))
      .orderBy(desc(runs.createdAt), desc(runs.id))
      .limit(limit + 1);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { runs: page, hasNextPage: rows.length > limit, endCursor: last ? encodeCursor(last) : null };
  }

  checkpoints(runId: string): Promise<RunCheckpoint[]> {
    return this.deps.db.select().from(checkpoints).where(eq(checkpoints.runId, runId)).orderBy(asc(checkpoints.step));
  }

  async sampleGrids(runId: string, step?: number | null): Promise<SampleGrid[]> {
    const where =
      step === undefined || step === null
        ? eq(sampleGrids.runId, runId)
        : and(eq(sampleGrids.runId, runId), eq(sampleGrids.step, step));
    return this.deps.db.select().from(sampleGrids).where(where).orderBy(asc(sampleGrids.step));
  }

  /** A short-lived download URL for an object of the run (sample grid PNG, checkpoint file). */
  async objectUrl(key: string): Promise<{ url: string; expiresAt: Date }> {
    const signed = await this.store.presignGet(key, { expiresInSec: 300 });
    return { url: signed.url, expiresAt: signed.expiresAt };
  }

  events(runId: string): Promise<RunEvent[]> {
    return this.deps.db.select().from(runEvents).where(eq(runEvents.runId, runId)).orderBy(asc(runEvents.id));
  }

  logsTail(runId: string, n: number): Promise<RunLog[]> {
    return this.logs.tail(runId, n);
  }

  /*
   * The same reads for many runs in one query each, in the order of `runIds` (the GraphQL dataloaders batch a
   * page of runs through these instead of one query per run and field).
   */

  async checkpointsOfRuns(runIds: readonly string[]): Promise<RunCheckpoint[][]> {
    const rows = await this.deps.db
      .select()
      .from(checkpoints)
      .where(inArray(checkpoints.runId, [...runIds]))
      .orderBy(asc(checkpoints.step));
    return groupBy(runIds, rows, (r) => r.runId);
  }

  async sampleGridsOfRuns(runIds: readonly string[]): Promise<SampleGrid[][]> {
    const rows = await this.deps.db
      .select()
      .from(sampleGrids)
      .where(inArray(sampleGrids.runId, [...runIds]))
      .orderBy(asc(sampleGrids.step));
    return groupBy(runIds, rows, (r) => r.runId);
  }

  async eventsOfRuns(runIds: readonly string[]): Promise<RunEvent[][]> {
    const rows = await this.deps.db
      .select()
      .from(runEvents)
      .where(inArray(runEvents.runId, [...runIds]))
      .orderBy(asc(runEvents.id));
    return groupBy(runIds, rows, (r) => r.runId);
  }

  async metricKeysOfRuns(runIds: readonly string[]): Promise<string[][]> {
    const rows = await this.deps.db
      .select({ runId: metricKeys.runId, key: metricKeys.key })
      .from(metricKeys)
      .where(inArray(metricKeys.runId, [...runIds]))
      .orderBy(asc(metricKeys.key));
    return groupBy(runIds, rows, (r) => r.runId).map((list) => list.map((r) => r.key));
  }

  metricKeys(runId: string): Promise<string[]> {
    return listMetricKeys(this.deps.pool, runId);
  }

  async metrics(
    runId: string,
    q: { keys: string[]; maxPoints: number; fromStep?: number | null; toStep?: number | null },
  ): Promise<MetricsQueryResult> {
    try {
      return await queryMetrics(this.deps.pool, {
        runId,
        keys: q.keys,
        maxPoints: q.maxPoints,
        ...(q.fromStep != null ? { fromStep: q.fromStep } : {}),
        ...(q.toStep != null ? { toStep: q.toStep } : {}),
      });
    } catch (err) {
      if (err instanceof MetricsInputError) throw badInput(err.field, err.message);
      throw err;
    }
  }
}

function encodeCursor(run: Run): string {
  return Buffer.from(`${run.createdAt.toISOString()}|${run.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !z.uuid().safeParse(id).success)
    throw badInput('after', 'after: not a cursor returned by runs()');
  return { createdAt, id };
}

/** Rows grouped by key, one list per key of `keys` in that order (empty where none), rows keeping their order. */
function groupBy<T>(keys: readonly string[], rows: T[], keyOf: (row: T) => string): T[][] {
  const byKey = new Map<string, T[]>(keys.map((k) => [k, []]));
  for (const row of rows) byKey.get(keyOf(row))?.push(row);
  return keys.map((k) => byKey.get(k) ?? []);
}
