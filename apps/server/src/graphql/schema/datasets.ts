import {
  DATASET_FILE_STATUSES,
  DATASET_VERSION_STATUSES,
  UPLOAD_STATUSES,
  type Dataset,
  type DatasetFile,
  type DatasetVersion,
  type Upload,
  type UploadFileEntry,
} from '@dapple/db';
import type { DatasetManifest } from '@dapple/datasets';
import type { SignedRequest } from '@dapple/storage';
import type { Context } from '../context.ts';
import {
  labelHistogram,
  rejectedByReason,
  type DatasetFilePage,
  type UploadFileProgress,
  type UploadPartTarget,
} from '../../services/datasets/index.ts';
import { builder } from '../builder.ts';
import { upperCaseValues } from '../enum-values.ts';

const upperEnum = <T extends string>(name: string, values: readonly T[], description: string) =>
  builder.enumType(name, {
    description,
    values: upperCaseValues(values),
  });

const DatasetVersionStatusEnum = upperEnum(
  'DatasetVersionStatus',
  DATASET_VERSION_STATUSES,
  'PREPARING while the dataset.prepare job runs; READY once shards and manifest are stored; FAILED with an error.',
);
const DatasetFileStatusEnum = upperEnum(
  'DatasetFileStatus',
  DATASET_FILE_STATUSES,
  'Whether a file made it into the shards.',
);
const UploadStatusEnum = upperEnum('UploadStatus', UPLOAD_STATUSES, 'OPEN until completeUpload or abortUpload.');

const HttpHeaderRef = builder.objectRef<{ name: string; value: string }>('HttpHeader').implement({
  fields: (t) => ({ name: t.exposeString('name'), value: t.exposeString('value') }),
});

const headersField = (r: SignedRequest) => Object.entries(r.headers).map(([name, value]) => ({ name, value }));

const UploadPartTargetRef = builder.objectRef<UploadPartTarget>('UploadPartTarget').implement({
  description:
    'Where to send one part (or, for a single-PUT file, the whole file, as part 1). Send exactly `size` bytes with these headers; ' +
    'the store refuses another length. For multipart files keep nothing: the server reads the parts back on completeUpload.',
  fields: (t) => ({
    partNumber: t.exposeInt('partNumber'),
    size: t.exposeFloat('size', { description: 'Bytes this request must carry.' }),
    url: t.exposeString('url'),
    method: t.exposeString('method'),
    headers: t.field({ type: [HttpHeaderRef], resolve: headersField }),
    expiresAt: t.expose('expiresAt', {
      type: 'DateTime',
      description: 'Ask uploadPartUrls for fresh URLs after this.',
    }),
  }),
});

/** Progress of every file of an upload, fetched once per request (the upload row object is per request). */
const progressCache = new WeakMap<Upload, Promise<UploadFileProgress[]>>();
type UploadFileParent = { upload: Upload; file: UploadFileEntry; index: number };
const progressOf = async (p: UploadFileParent, ctx: Context): Promise<UploadFileProgress> => {
  let progress = progressCache.get(p.upload);
  if (!progress) progressCache.set(p.upload, (progress = ctx.services.uploads.progress(p.upload)));
  return (await progress)[p.index]!;
};

const UploadFileRef = builder.objectRef<UploadFileParent>('UploadFile').implement({
  fields: (t) => ({
    index: t.exposeInt('index'),
    path: t.string({ resolve: (p) => p.file.path, description: 'The path as given (normalised to `/` separators).' }),
    size: t.float({ resolve: (p) => p.file.size }),
    contentType: t.string({ resolve: (p) => p.file.contentType }),
    multipart: t.boolean({ resolve: (p) => p.file.multipartUploadId !== null }),
    pack: t.boolean({ resolve: (p) => p.file.pack === true, description: 'A .tar of files packed for transport.' }),
    partSize: t.float({
      nullable: true,
      resolve: (p) => p.file.partSize,
      description: 'Every part but the last has this size.',
    }),
    partCount: t.int({ resolve: (p) => p.file.partCount }),
    received: t.boolean({
      description: 'The whole file is stored.',
      resolve: async (p, _a, ctx) => (await progressOf(p, ctx)).received,
    }),
    receivedParts: t.intList({
      description: 'Part numbers already stored (asks the store): upload only the others when resuming.',
      resolve: async (p, _a, ctx) => (await progressOf(p, ctx)).receivedParts,
    }),
    parts: t.field({
      type: [UploadPartTargetRef],
      description: 'Fresh, short-lived upload URLs for every part; empty unless the upload is OPEN.',
      resolve: (p, _a, ctx) => (p.upload.status === 'open' ? ctx.services.uploads.partTargets(p.upload, p.index) : []),
    }),
  }),
});

type VersionParent = { dataset: Dataset; version: DatasetVersion };

const DatasetFileRef = builder.objectRef<DatasetFile>('DatasetFile').implement({
  fields: (t) => ({
    path: t.exposeString('path', { description: 'Upload path; archive members are `<archive path>/<member path>`.' }),
    size: t.exposeFloat('size'),
    sha256: t.exposeString('sha256', { nullable: true }),
    status: t.field({ type: DatasetFileStatusEnum, resolve: (f) => f.status }),
    rejectReason: t.exposeString('rejectReason', {
      nullable: true,
      description:
        'corrupt, unsupported_type, too_small, too_many_pixels, duplicate, too_large, unsafe_path or orphan_caption.',
    }),
    rejectDetail: t.exposeString('rejectDetail', { nullable: true }),
    label: t.exposeString('label', { nullable: true }),
    caption: t.exposeString('caption', { nullable: true }),
    sampleIndex: t.exposeInt('sampleIndex', {
      nullable: true,
      description: 'Position in the shards and thumbnail sheets.',
    }),
  }),
});

const DatasetFilePageRef = builder.objectRef<DatasetFilePage>('DatasetFilePage').implement({
  fields: (t) => ({
    nodes: t.field({ type: [DatasetFileRef], resolve: (p) => p.nodes }),
    hasNextPage: t.exposeBoolean('hasNextPage'),
    endCursor: t.exposeString('endCursor', { nullable: true, description: 'Pass as `after` for the next page.' }),
  }),
});

const ReasonCountRef = builder.objectRef<{ reason: string; count: number }>('RejectReasonCount').implement({
  fields: (t) => ({ reason: t.exposeString('reason'), count: t.exposeInt('count') }),
});
const LabelCountRef = builder.objectRef<{ label: string; id: number; count: number }>('LabelCount').implement({
  fields: (t) => ({
    label: t.exposeString('label'),
    id: t.exposeInt('id', { description: 'The label id stored in the shards.' }),
    count: t.exposeInt('count'),
  }),
});

const ThumbnailSheetsRef = builder.objectRef<VersionParent>('ThumbnailSheets').implement({
  description:
    'Accepted image i is tile i % perSheet of sheet ⌊i / perSheet⌋, row-major, `columns` tiles wide, `tile` px square.',
  fields: (t) => ({
    tile: t.int({ resolve: (p) => manifestOf(p).thumbnails.tile }),
    columns: t.int({ resolve: (p) => manifestOf(p).thumbnails.columns }),
    perSheet: t.int({ resolve: (p) => manifestOf(p).thumbnails.perSheet }),
    sheetUrls: t.stringList({
      resolve: async (p, _a, ctx) =>
        Promise.all(
          manifestOf(p).thumbnails.sheets.map(
            async (name) => (await ctx.services.datasets.versionObjectUrl(p.dataset, p.version, name)).url,
          ),
        ),
    }),
  }),
});

function manifestOf(p: VersionParent) {
  const manifest = p.version.manifest;
  if (!manifest) throw new Error(`version ${p.version.id} has no manifest`);
  return manifest as DatasetManifest;
}

export const DatasetVersionRef = builder.objectRef<VersionParent>('DatasetVersion').implement({
  description: 'An immutable, prepared snapshot of a dataset. Objects live under datasets/<datasetId>/v<number>/.',
  fields: (t) => ({
    id: t.id({ resolve: (p) => p.version.id }),
    number: t.int({ resolve: (p) => p.version.number }),
    status: t.field({ type: DatasetVersionStatusEnum, resolve: (p) => p.version.status }),
    fileCount: t.int({
      resolve: (p) => p.version.fileCount,
      description: 'Files uploaded (before READY) or found, archive members included (READY).',
    }),
    acceptedCount: t.int({ resolve: (p) => p.version.acceptedCount }),
    rejectedCount: t.int({ resolve: (p) => p.version.rejectedCount }),
    rejectedByReason: t.field({
      type: [ReasonCountRef],
      resolve: (p, _a, ctx) => rejectedByReason(ctx.services.datasets.manifestOf(p.version)),
    }),
    labels: t.field({
      type: [LabelCountRef],
      description: 'Class labels (top-level folders) with their accepted image counts, in label-id order.',
      resolve: (p, _a, ctx) => labelHistogram(ctx.services.datasets.manifestOf(p.version)),
    }),
    unlabeledCount: t.int({
      resolve: (p, _a, ctx) => ctx.services.datasets.manifestOf(p.version)?.labels.unlabeled ?? 0,
    }),
    contentHash: t.string({
      nullable: true,
      resolve: (p) => p.version.contentHash,
      description: 'The manifest versionHash.',
    }),
    error: t.string({ nullable: true, resolve: (p) => p.version.error }),
    createdAt: t.field({ type: 'DateTime', resolve: (p) => p.version.createdAt }),
    preparedAt: t.field({ type: 'DateTime', nullable: true, resolve: (p) => p.version.preparedAt }),
    manifestUrl: t.string({
      nullable: true,
      description: 'Short-lived download URL of manifest.json (READY only).',
      resolve: async (p, _a, ctx) =>
        p.version.status === 'ready'
          ? (await ctx.services.datasets.versionObjectUrl(p.dataset, p.version, 'manifest.json')).url
          : null,
    }),
    previewUrl: t.string({
      nullable: true,
      description:
        'Short-lived URL of preview.png: a row of images per class (every class shown), or the first images when unlabelled (READY with at least one image).',
      resolve: async (p, _a, ctx) => {
        const preview = p.version.status === 'ready' ? ctx.services.datasets.manifestOf(p.version)?.preview : null;
        return preview ? (await ctx.services.datasets.versionObjectUrl(p.dataset, p.version, preview)).url : null;
      },
    }),
    thumbnails: t.field({
      type: ThumbnailSheetsRef,
      nullable: true,
      resolve: (p) => (p.version.status === 'ready' && p.version.manifest ? p : null),
    }),
    files: t.field({
      type: DatasetFilePageRef,
      description: 'Files in upload order (archive members in archive order). `first` ≤ 500.',
      args: {
        status: t.arg({ type: DatasetFileStatusEnum }),
        first: t.arg.int({ defaultValue: 100 }),
        after: t.arg.string(),
      },
      resolve: (p, args, ctx) => ctx.services.datasets.files(p.version.id, args),
    }),
  }),
});

export const DatasetRef = builder.objectRef<Dataset>('Dataset').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    teamId: t.exposeID('teamId'),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    resolution: t.exposeInt('resolution', { description: 'Square side in pixels of every prepared image.' }),
    channels: t.exposeInt('channels', { description: '1 (grayscale) or 3 (RGB).' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    versions: t.field({
      type: [DatasetVersionRef],
      description: 'Newest first.',
      resolve: async (d, _a, ctx) =>
        (await ctx.services.datasets.versions(d.id)).map((version) => ({ dataset: d, version })),
    }),
  }),
});

const UploadRef = builder.objectRef<Upload>('Upload').implement({
  description: 'An upload session: send every file to its URLs, then call completeUpload.',
  fields: (t) => ({
    id: t.exposeID('id'),
    datasetId: t.exposeID('datasetId'),
    status: t.field({ type: UploadStatusEnum, resolve: (u) => u.status }),
    totalBytes: t.exposeFloat('totalBytes'),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'completeUpload is refused after this.' }),
    files: t.field({
      type: [UploadFileRef],
      resolve: (u) => u.files.map((file, index) => ({ upload: u, file, index })),
    }),
  }),
});

const CompleteUploadPayload = builder
  .objectRef<{ upload: Upload; version: VersionParent }>('CompleteUploadPayload')
  .implement({
    fields: (t) => ({
      upload: t.field({ type: UploadRef, resolve: (p) => p.upload }),
      version: t.field({
        type: DatasetVersionRef,
        description: 'The new version, PREPARING.',
        resolve: (p) => p.version,
      }),
    }),
  });

const CreateDatasetInput = builder.inputType('CreateDatasetInput', {
  fields: (t) => ({
    teamId: t.id({ required: true }),
    name: t.string({ required: true, description: 'Unique in the team.' }),
    description: t.string(),
    resolution: t.int({ required: true, description: 'Square side in pixels, 8–1024.' }),
    channels: t.int({ required: true, description: '1 (grayscale) or 3 (RGB).' }),
  }),
});
const UploadFileInput = builder.inputType('UploadFileInput', {
  fields: (t) => ({
    path: t.string({
      required: true,
      description: 'Relative path, e.g. `cats/1.png`; a top-level folder becomes the class label.',
    }),
    size: t.float({ required: true, description: 'Exact size in bytes; the store refuses any other length.' }),
    contentType: t.string({ required: true }),
    pack: t.boolean({
      description:
        'A .tar packing many files for transport (what the dashboard and CLI send): its entries become the ' +
        "upload's files under their own paths, as if each had been uploaded alone.",
    }),
  }),
});
const CreateUploadInput = builder.inputType('CreateUploadInput', {
  description: 'Exactly one of `datasetId` (add a version to that dataset) and `dataset` (create one with the upload).',
  fields: (t) => ({
    datasetId: t.id({ description: 'An existing dataset (members and above).' }),
    dataset: t.field({
      type: CreateDatasetInput,
      description:
        'A new dataset, created with the upload in one request (checked like createDataset: members and above, ' +
        'CONFLICT naming dataset.name when the team has one of that name). Nothing is created when the upload is refused.',
    }),
    files: t.field({ type: [UploadFileInput], required: true }),
  }),
});

builder.queryFields((t) => ({
  datasets: t.field({
    type: [DatasetRef],
    description: "A team's datasets by name. FORBIDDEN for non-members.",
    authScopes: { authenticated: true },
    args: { teamId: t.arg.id({ required: true }) },
    resolve: (_r, { teamId }, ctx) => ctx.services.datasets.listForTeam(ctx, String(teamId)),
  }),
  dataset: t.field({
    type: DatasetRef,
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.datasets.authorized(ctx, String(id)),
  }),
  datasetVersion: t.field({
    type: DatasetVersionRef,
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.datasets.authorizedVersion(ctx, String(id)),
  }),
  datasetFiles: t.field({
    type: DatasetFilePageRef,
    description: 'Files of a version in upload order, optionally only ACCEPTED or REJECTED ones. `first` ≤ 500.',
    authScopes: { authenticated: true },
    args: {
      versionId: t.arg.id({ required: true }),
      status: t.arg({ type: DatasetFileStatusEnum }),
      first: t.arg.int({ defaultValue: 100 }),
      after: t.arg.string(),
    },
    resolve: async (_r, { versionId, ...page }, ctx) => {
      const { version } = await ctx.services.datasets.authorizedVersion(ctx, String(versionId));
      return ctx.services.datasets.files(version.id, page);
    },
  }),
  upload: t.field({
    type: UploadRef,
    description: 'An upload and what of it arrived (for resuming). Members and above.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_r, { id }, ctx) => (await ctx.services.uploads.authorized(ctx, String(id))).upload,
  }),
}));

builder.mutationFields((t) => ({
  createDataset: t.field({
    type: DatasetRef,
    description: 'Members and above. CONFLICT when the team already has a dataset of that name.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CreateDatasetInput, required: true }) },
    resolve: (_r, { input }, ctx) => ctx.services.datasets.create(ctx, input),
  }),
  deleteDataset: t.field({
    type: 'Boolean',
    description: 'Admins and owners. Deletes every version, upload and stored object of the dataset.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.datasets.delete(ctx, String(id)),
  }),
  deleteDatasetVersion: t.field({
    type: DatasetRef,
    description: 'Admins and owners. Deletes one READY or FAILED version and its objects (CONFLICT while PREPARING).',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) => ctx.services.datasets.deleteVersion(ctx, String(id)),
  }),
  createUpload: t.field({
    type: UploadRef,
    description:
      'Members and above. Declares the files (path, exact size, type) for an existing dataset (`datasetId`) or a new one (`dataset`); ' +
      'select files { parts { url headers } } for the upload URLs and datasetId for the new dataset. ' +
      'Files over 16 MiB (configurable) are multipart. BAD_USER_INPUT names the file and the limit it crosses.',
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CreateUploadInput, required: true }) },
    resolve: (_r, { input }, ctx) => ctx.services.uploads.create(ctx, input),
  }),
  uploadPartUrls: t.field({
    type: [UploadPartTargetRef],
    description: 'Fresh URLs for some parts of one file of an OPEN upload (a single-PUT file has one part, number 1).',
    authScopes: { authenticated: true },
    args: {
      uploadId: t.arg.id({ required: true }),
      fileIndex: t.arg.int({ required: true }),
      partNumbers: t.arg.intList({ required: true }),
    },
    resolve: (_r, { uploadId, fileIndex, partNumbers }, ctx) =>
      ctx.services.uploads.partUrls(ctx, String(uploadId), fileIndex, partNumbers),
  }),
  completeUpload: t.field({
    type: CompleteUploadPayload,
    description:
      'Checks every file arrived whole (BAD_USER_INPUT naming what is missing), creates the next version (PREPARING) and queues its preparation. ' +
      'CONFLICT when the upload is already completed or aborted.',
    authScopes: { authenticated: true },
    args: { uploadId: t.arg.id({ required: true }) },
    resolve: async (_r, { uploadId }, ctx) => {
      const { upload, version } = await ctx.services.uploads.complete(ctx, String(uploadId));
      const dataset = await ctx.services.datasets.authorized(ctx, upload.datasetId);
      return { upload, version: { dataset, version } };
    },
  }),
  abortUpload: t.field({
    type: UploadRef,
    description: 'Ends an OPEN upload and deletes what arrived. CONFLICT when it is already completed or aborted.',
    authScopes: { authenticated: true },
    args: { uploadId: t.arg.id({ required: true }) },
    resolve: (_r, { uploadId }, ctx) => ctx.services.uploads.abort(ctx, String(uploadId)),
  }),
}));
