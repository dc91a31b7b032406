import { and, eq, sql } from 'drizzle-orm';
import {
  datasets,
  datasetVersions,
  sanitizeJson,
  sanitizeText,
  uploads,
  type Dataset,
  type DatasetVersion,
  type Upload,
} from '@dapple/db';
import { ArchiveError, prepareDataset, type FileRecord, type InputFile } from '@dapple/datasets';
import type { ObjectStore } from '@dapple/storage';
import type { Logger } from '../../logger.ts';
import type { DatasetConfig } from './config.ts';
import { datasetKeys } from './datasets.ts';
import type { ServiceDeps, Tx } from '../types.ts';
import { UploadAssemblyError, type UploadService } from './uploads.ts';

export interface PrepareRunOptions {
  logger: Logger;
  signal?: AbortSignal;
  /** No retry follows a failure: record it on the version. */
  finalAttempt: boolean;
}

export type PrepareOutcome = 'ready' | 'failed' | 'skipped';

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json',
  png: 'image/png',
  webp: 'image/webp',
  bin: 'application/octet-stream',
};

/** Rows inserted per statement: arrays of this many elements per column. */
const FILE_ROWS_PER_INSERT = 20_000;

/**
 * The body of the dataset.prepare job. Idempotent: it first removes whatever an earlier (crashed)
 * attempt wrote under the version prefix, and the version only becomes `ready` — together with all its
 * file rows, in one transaction — after prepareDataset has stored manifest.json, which it writes last.
 */
export class DatasetPrepareService {
  constructor(
    private readonly deps: ServiceDeps & { store: ObjectStore; config: DatasetConfig },
    private readonly uploads: Pick<UploadService, 'assemble'>,
  ) {}

  async run(versionId: string, options: PrepareRunOptions): Promise<PrepareOutcome> {
    const found = await this.load(versionId);
    if (!found || found.version.status !== 'preparing') {
      options.logger.info({ versionId, status: found?.version.status ?? 'deleted' }, 'dataset.prepare: nothing to do');
      return 'skipped';
    }
    const { dataset, version, upload } = found;
    const prefix = datasetKeys.version(dataset.id, version.number);
    const log = options.logger.child({ datasetId: dataset.id, version: version.number });
    await this.deps.store.deletePrefix(prefix);

    const root = commonRoot(upload.files.map((f) => f.path));
    let result;
    try {
      await this.uploads.assemble(upload);
      result = await prepareDataset({
        files: upload.files.map((file): InputFile => ({
          path: root ? file.path.slice(root.length + 1) : file.path,
          size: file.size,
          open: () => this.deps.store.get(file.key),
          packed: file.pack === true,
        })),
        resolution: dataset.resolution,
        channels: dataset.channels as 1 | 3,
        limits: this.deps.config.prepare,
        writeObject: async (name, data, size) => {
          await this.deps.store.put(`${prefix}${name}`, data, {
            size,
            contentType: CONTENT_TYPES[name.split('.').pop() ?? ''],
          });
        },
        signal: options.signal,
      });
    } catch (err) {
      await this.deps.store
        .deletePrefix(prefix)
        .catch((cleanupErr: unknown) => log.error({ err: cleanupErr }, 'could not clean a failed version'));
      if (options.signal?.aborted) throw err; // the hub is stopping: the job runs again later
      const refused = err instanceof ArchiveError;
      const unassembled = err instanceof UploadAssemblyError;
      if (!refused && !unassembled && !options.finalAttempt) throw err; // transient (store, network): retried
      const error = refused
        ? `Upload refused: ${err.message}`
        : unassembled
          ? `Upload incomplete: ${err.message}`
          : `Preparation failed: ${messageOf(err)}`;
      await this.markFailed(version.id, error);
      log.warn({ err }, 'dataset.prepare failed');
      return 'failed';
    }

    const manifestKey = `${prefix}manifest.json`;
    const stillThere = await this.deps.db.transaction(async (tx) => {
      const [current] = await tx.select().from(datasetVersions).where(eq(datasetVersions.id, version.id)).for('update');
      if (!current || current.status !== 'preparing') return false;
      await insertFileRows(tx, version.id, result.files, root);
      await tx
        .update(datasetVersions)
        .set({
          status: 'ready',
          fileCount: result.manifest.counts.files,
          acceptedCount: result.manifest.counts.accepted,
          rejectedCount: result.manifest.counts.rejected,
          contentHash: result.manifest.versionHash,
          manifestKey,
          // Captions, labels and paths come from the uploader's files: stored as Postgres can hold them.
          manifest: sanitizeJson(result.manifest),
          preparedAt: this.deps.now(),
          error: null,
        })
        .where(eq(datasetVersions.id, version.id));
      return true;
    });
    if (!stillThere) {
      // Deleted (or failed elsewhere) while we worked: leave nothing behind.
      await this.deps.store.deletePrefix(prefix);
      return 'skipped';
    }
    // The shards hold everything training needs; the raw upload would only double the storage.
    await this.deps.store
      .deletePrefix(datasetKeys.upload(dataset.id, upload.id))
      .catch((err: unknown) => log.warn({ err }, 'could not delete the raw upload objects'));
    log.info(
      { accepted: result.manifest.counts.accepted, rejected: result.manifest.counts.rejected },
      'dataset version ready',
    );
    return 'ready';
  }

  /** Gives up on a version still preparing: removes what was written under its prefix and marks it failed. */
  async abandon(versionId: string, error: string): Promise<void> {
    const found = await this.load(versionId);
    if (!found || found.version.status !== 'preparing') return;
    await this.deps.store.deletePrefix(datasetKeys.version(found.dataset.id, found.version.number));
    await this.markFailed(versionId, error);
  }

  async markFailed(versionId: string, error: string): Promise<void> {
    await this.deps.db
      .update(datasetVersions)
      .set({ status: 'failed', error: sanitizeText(error).slice(0, 2000) })
      .where(and(eq(datasetVersions.id, versionId), eq(datasetVersions.status, 'preparing')));
  }

  private async load(versionId: string): Promise<{ dataset: Dataset; version: DatasetVersion; upload: Upload } | null> {
    const [row] = await this.deps.db
      .select({ dataset: datasets, version: datasetVersions, upload: uploads })
      .from(datasetVersions)
      .innerJoin(datasets, eq(datasets.id, datasetVersions.datasetId))
      .innerJoin(uploads, eq(uploads.versionId, datasetVersions.id))
      .where(eq(datasetVersions.id, versionId));
    return row ?? null;
  }
}

/**
 * The folder every path starts with, when there is one (a browser folder upload: `myfolder/cats/1.png`),
 * so the class label is the next folder (`cats`). Null when any file sits at the root or roots differ.
 */
export function commonRoot(paths: readonly string[]): string | null {
  let root: string | null = null;
  for (const path of paths) {
    const slash = path.indexOf('/');
    if (slash <= 0) return null;
    const first = path.slice(0, slash);
    if (root === null) root = first;
    else if (root !== first) return null;
  }
  return root;
}

/** One INSERT … SELECT FROM unnest(arrays) per chunk: a few statements for 200,000 files, not 200,000. */
async function insertFileRows(
  tx: Tx,
  versionId: string,
  files: readonly FileRecord[],
  root: string | null,
): Promise<void> {
  for (let start = 0; start < files.length; start += FILE_ROWS_PER_INSERT) {
    const chunk = files.slice(start, start + FILE_ROWS_PER_INSERT);
    const col = <T>(pick: (f: FileRecord, i: number) => T) => sql.param(chunk.map((f, i) => pick(f, start + i)));
    await tx.execute(sql`
      insert into dataset_files (version_id, ordinal, path, size, sha256, status, reject_reason, reject_detail, label, caption, sample_index)
      select ${versionId}::uuid, * from unnest(
        ${col((_, i) => i)}::int[],
        ${col((f) => sanitizeText(root ? `${root}/${f.path}` : f.path))}::text[],
        ${col((f) => f.size)}::bigint[],
        ${col((f) => f.sha256 || null)}::text[],
        ${col((f) => f.status)}::dataset_file_status[],
        ${col((f) => f.reason ?? null)}::text[],
        ${col((f) => (f.detail === undefined ? null : sanitizeText(f.detail)))}::text[],
        ${col((f) => (f.label === undefined ? null : sanitizeText(f.label)))}::text[],
        ${col((f) => (f.caption === undefined ? null : sanitizeText(f.caption)))}::text[],
        ${col((f) => f.index ?? null)}::int[]
      )`);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
