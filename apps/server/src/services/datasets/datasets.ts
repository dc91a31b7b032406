import { and, asc, desc, eq, gt } from 'drizzle-orm';
import {
  datasetFiles,
  datasets,
  datasetVersions,
  uploads,
  type Dataset,
  type Db,
  type DatasetFile,
  type DatasetVersion,
  type TeamRole,
} from '@dapple/db';
import { parseManifest, type DatasetManifest } from '@dapple/datasets';
import { ObjectKey, type ObjectStore, type SignedRequest } from '@dapple/storage';
import { z } from 'zod';
import { conflict, isUniqueViolation, notFound } from '../errors.ts';
import type { TeamService } from '../teams/index.ts';
import type { RequestMeta, ServiceDeps, Tx } from '../types.ts';
import { pageSize, parseInput } from '../validation.ts';

export const MIN_RESOLUTION = 8;
export const MAX_RESOLUTION = 1024;

/** A new dataset's fields (createDataset, and createUpload's `dataset` when the upload starts a new dataset). */
export const newDatasetInput = z.object({
  teamId: z.uuid('must be a valid team id'),
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  description: z.string().trim().max(2000, 'must be at most 2000 characters').nullish(),
  resolution: z
    .number()
    .int('must be a whole number of pixels')
    .min(MIN_RESOLUTION, `must be at least ${MIN_RESOLUTION}`)
    .max(MAX_RESOLUTION, `must be at most ${MAX_RESOLUTION}`),
  channels: z.union([z.literal(1), z.literal(3)], 'must be 1 (grayscale) or 3 (RGB)'),
});

const filesInput = z.object({
  status: z.enum(['accepted', 'rejected', 'pending']).nullish(),
  first: pageSize(500, 100),
  after: z
    .string()
    .regex(/^\d{1,10}$/, 'must be a cursor returned as endCursor')
    // Ordinals are Postgres int4: a bigger number is no cursor we returned (and would overflow the query).
    .refine((cursor) => Number(cursor) <= 2_147_483_647, 'must be a cursor returned as endCursor')
    .nullish(),
});

/** Object prefixes: every key is built from ids and numbers, never from user paths. */
export const datasetKeys = {
  dataset: (datasetId: string) => `${ObjectKey.join('datasets', datasetId)}/`,
  upload: (datasetId: string, uploadId: string) => `${ObjectKey.join('datasets', datasetId, 'uploads', uploadId)}/`,
  uploadFile: (datasetId: string, uploadId: string, index: number) =>
    ObjectKey.join('datasets', datasetId, 'uploads', uploadId, String(index)),
  version: (datasetId: string, number: number) => `${ObjectKey.join('datasets', datasetId, `v${number}`)}/`,
};

export interface DatasetFilePage {
  nodes: DatasetFile[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/** Datasets, their immutable versions and prepared files. Uploads live in UploadService. */
export class DatasetService {
  constructor(
    private readonly deps: ServiceDeps & { store: ObjectStore },
    private readonly teams: TeamService,
  ) {}

  /** Members and above create datasets; the name is unique in the team. */
  async create(meta: RequestMeta, input: unknown): Promise<Dataset> {
    const parsed = parseInput(newDatasetInput, input);
    const membership = await this.teams.requireTeamRole(meta, parsed.teamId, 'member');
    return this.insert(this.deps.db, parsed, membership.userId);
  }

  /**
   * Inserts a dataset whose fields were parsed with newDatasetInput and whose team role was checked
   * (`executor`: a transaction that creates more with it). CONFLICT naming `field` when the name is taken.
   */
  async insert(
    executor: Db | Tx,
    input: z.output<typeof newDatasetInput> & { id?: string },
    createdBy: string,
    field = 'name',
  ): Promise<Dataset> {
    const { id, teamId, name, description, resolution, channels } = input;
    try {
      const [dataset] = await executor
        .insert(datasets)
        .values({ id, teamId, name, description: description ?? '', resolution, channels, createdBy })
        .returning();
      if (!dataset) throw new Error('insert into datasets returned no row');
      return dataset;
    } catch (err) {
      if (isUniqueViolation(err, 'datasets_team_name_key'))
        throw conflict(`The team already has a dataset named "${name}"`, field);
      throw err;
    }
  }

  /** The team role check of a new dataset's team: createUpload with `dataset` checks it like createDataset. */
  requireCreator(meta: RequestMeta, teamId: string) {
    return this.teams.requireTeamRole(meta, teamId, 'member');
  }

  async listForTeam(meta: RequestMeta, teamId: string): Promise<Dataset[]> {
    await this.teams.requireTeamRole(meta, teamId, 'viewer');
    return this.deps.db.select().from(datasets).where(eq(datasets.teamId, teamId)).orderBy(asc(datasets.name));
  }

  /** NOT_FOUND when missing or another team's; FORBIDDEN when the caller's role in its team is below `minRole`. */
  async authorized(meta: RequestMeta, datasetId: string, minRole: TeamRole = 'viewer'): Promise<Dataset> {
    if (!z.uuid().safeParse(datasetId).success) throw notFound('Dataset');
    const [dataset] = await this.deps.db.select().from(datasets).where(eq(datasets.id, datasetId));
    if (!dataset) throw notFound('Dataset');
    await this.teams.requireTeamRole(meta, dataset.teamId, minRole, 'Dataset');
    return dataset;
  }

  /** A version with its dataset, checked like `authorized`. */
  async authorizedVersion(
    meta: RequestMeta,
    versionId: string,
    minRole: TeamRole = 'viewer',
  ): Promise<{ dataset: Dataset; version: DatasetVersion }> {
    if (!z.uuid().safeParse(versionId).success) throw notFound('Dataset version');
    const [row] = await this.deps.db
      .select({ dataset: datasets, version: datasetVersions })
      .from(datasetVersions)
      .innerJoin(datasets, eq(datasets.id, datasetVersions.datasetId))
      .where(eq(datasetVersions.id, versionId));
    if (!row) throw notFound('Dataset version');
    await this.teams.requireTeamRole(meta, row.dataset.teamId, minRole, 'Dataset version');
    return row;
  }

  versions(datasetId: string): Promise<DatasetVersion[]> {
    return this.deps.db
      .select()
      .from(datasetVersions)
      .where(eq(datasetVersions.datasetId, datasetId))
      .orderBy(desc(datasetVersions.number));
  }

  /** Files of a version in input order, optionally one status; `after` is the previous page's endCursor. */
  async files(versionId: string, input: unknown): Promise<DatasetFilePage> {
    const { status, first, after } = parseInput(filesInput, input);
    const conditions = [eq(datasetFiles.versionId, versionId)];
    if (status) conditions.push(eq(datasetFiles.status, status));
    if (after) conditions.push(gt(datasetFiles.ordinal, Number(after)));
    const rows = await this.deps.db
      .select()
      .from(datasetFiles)
      .where(and(...conditions))
      .orderBy(asc(datasetFiles.ordinal))
      .limit(first + 1);
    const nodes = rows.slice(0, first);
    const last = nodes.at(-1);
    return { nodes, hasNextPage: rows.length > first, endCursor: last ? String(last.ordinal) : null };
  }

  manifestOf(version: DatasetVersion): DatasetManifest | null {
    return version.manifest ? parseManifest(version.manifest) : null;
  }

  /** A short-lived download URL for an object of a ready version (`preview.png`, `thumbs/sheet-00000.webp`, …). */
  versionObjectUrl(dataset: Dataset, version: DatasetVersion, name: string): Promise<SignedRequest> {
    return this.deps.store.presignGet(`${datasetKeys.version(dataset.id, version.number)}${name}`);
  }

  /** Admins and owners delete a dataset: every object under `datasets/<id>/` and every row. */
  async delete(meta: RequestMeta, datasetId: string): Promise<boolean> {
    const dataset = await this.authorized(meta, datasetId, 'admin');
    await this.abortOpenUploads(dataset.id);
    await this.deps.store.deletePrefix(datasetKeys.dataset(dataset.id));
    // Cascades to versions, files and uploads. A prepare job still running finds its version gone and cleans up.
    await this.deps.db.delete(datasets).where(eq(datasets.id, dataset.id));
    return true;
  }

  /**
   * Admins and owners delete one version, in any state: its objects and rows. A version still PREPARING (or left so
   * by a crash) goes too, with its upload's objects: a prepare job still running finds the version gone, skips its
   * commit and deletes what it wrote (see DatasetPrepareService.run), so nothing is left stuck.
   */
  async deleteVersion(meta: RequestMeta, versionId: string): Promise<Dataset> {
    const { dataset, version } = await this.authorizedVersion(meta, versionId, 'admin');
    const versionUploads =
      version.status === 'preparing'
        ? await this.deps.db.select().from(uploads).where(eq(uploads.versionId, version.id))
        : [];
    await this.deps.db.delete(datasetVersions).where(eq(datasetVersions.id, version.id));
    await this.deps.store.deletePrefix(datasetKeys.version(dataset.id, version.number));
    for (const upload of versionUploads) {
      for (const file of upload.files) {
        if (file.multipartUploadId) await this.deps.store.abortMultipartUpload(file.key, file.multipartUploadId);
      }
      await this.deps.store.deletePrefix(datasetKeys.upload(dataset.id, upload.id));
      await this.deps.db.update(uploads).set({ status: 'aborted' }).where(eq(uploads.id, upload.id));
    }
    return dataset;
  }

  /**
   * Multipart parts are not objects yet (a prefix delete misses them): abort them explicitly, for open uploads
   * and for completed ones whose parts the prepare job has not assembled yet (abort is idempotent).
   */
  private async abortOpenUploads(datasetId: string): Promise<void> {
    const all = await this.deps.db.select().from(uploads).where(eq(uploads.datasetId, datasetId));
    const open = all.filter((u) => u.status === 'open');
    for (const upload of all) {
      for (const file of upload.files) {
        if (file.multipartUploadId) await this.deps.store.abortMultipartUpload(file.key, file.multipartUploadId);
      }
    }
    if (open.length > 0) {
      await this.deps.db
        .update(uploads)
        .set({ status: 'aborted' })
        .where(and(eq(uploads.datasetId, datasetId), eq(uploads.status, 'open')));
    }
  }
}

/** Rejected counts by reason, as stored in the manifest. */
export function rejectedByReason(manifest: DatasetManifest | null): { reason: string; count: number }[] {
  if (!manifest) return [];
  return Object.entries(manifest.counts.rejectedByReason)
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** Label histogram in label-id order (the order the shards use). */
export function labelHistogram(manifest: DatasetManifest | null): { label: string; id: number; count: number }[] {
  if (!manifest) return [];
  return manifest.labels.names.map((label, id) => ({ label, id, count: manifest.labels.histogram[id] ?? 0 }));
}
