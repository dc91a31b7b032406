import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { planUploadItems, type PackSource, type UploadItem } from '@dapple/contracts/upload-pack';
import { CliError } from './errors.ts';
import { request, type Connection } from './graphql.ts';

// The CLI's side of the batched upload (the dashboard's twin): files are packed into tars laid out by
// @dapple/contracts/upload-pack, each part read from disk and PUT to its signed URL, URLs renewed before they
// run out and after the store says they did, every part tried up to MAX_ATTEMPTS times.

const PARALLEL_PUTS = 3;
const MAX_ATTEMPTS = 5;
const REFRESH_MARGIN_MS = 60_000;

export interface LocalSource extends PackSource {
  /** Absolute path on disk. */
  file: string;
}

/** Every file under `dir` (hidden files and folders skipped), with `/`-separated paths relative to it. */
export async function collectSources(root: string): Promise<LocalSource[]> {
  const info = await stat(root).catch(() => null);
  if (!info) throw new CliError(`${root}: no such file or folder`, 'BAD_USER_INPUT');
  if (info.isFile()) return [{ path: basename(root), size: info.size, mtimeMs: info.mtimeMs, file: root }];
  const out: LocalSource[] = [];
  const walk = async (dir: string) => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const s = await stat(full);
        out.push({ path: relative(root, full).split(sep).join('/'), size: s.size, mtimeMs: s.mtimeMs, file: full });
      }
    }
  };
  await walk(root);
  if (out.length === 0) throw new CliError(`${root}: the folder has no files`, 'BAD_USER_INPUT');
  return out;
}

interface Target {
  partNumber: number;
  size: number;
  url: string;
  method: string;
  expiresAt: string;
  headers: { name: string; value: string }[];
}

export interface UploadProgress {
  bytesSent: number;
  bytesTotal: number;
  filesSent: number;
  filesTotal: number;
}

const TARGET_FIELDS = 'partNumber size url method expiresAt headers { name value }';

/** The fields of createDataset's input (CreateDatasetInput). */
export interface NewDataset {
  teamId: string;
  name: string;
  resolution: number;
  channels: number;
}

/**
 * Where an upload goes: an existing dataset, or a new one that createUpload creates together with the upload (in one
 * transaction, so a refused upload leaves no empty dataset behind).
 */
export type UploadInto = { datasetId: string } | { dataset: NewDataset };

/**
 * Uploads the sources as the next version of a dataset (a new one's first); returns the dataset's id and the
 * version. `onProgress` is called as parts are accepted.
 */
export async function uploadSources(
  conn: Connection,
  into: UploadInto,
  sources: readonly LocalSource[],
  onProgress: (p: UploadProgress) => void,
): Promise<{ datasetId: string; version: { id: string; number: number; status: string } }> {
  const items = planUploadItems(sources);
  const { createUpload } = await request<{
    createUpload: {
      id: string;
      datasetId: string;
      files: { index: number; partSize: number | null; parts: Target[] }[];
    };
  }>(
    conn,
    `mutation ($input: CreateUploadInput!) { createUpload(input: $input) { id datasetId files { index partSize parts { ${TARGET_FIELDS} } } } }`,
    {
      input: {
        ...into,
        files: items.map((item) =>
          item.kind === 'pack'
            ? { path: item.path, size: item.size, contentType: 'application/x-tar', pack: true }
            : { path: item.path, size: item.size, contentType: contentTypeOf(item.path) },
        ),
      },
    },
  );
  const uploadId = createUpload.id;
  const jobs = createUpload.files.flatMap((file) =>
    file.parts.map((target) => ({
      item: items[file.index]!,
      fileIndex: file.index,
      start: (target.partNumber - 1) * (file.partSize ?? 0),
      target,
      issuedAt: Date.now(),
    })),
  );
  const bytesTotal = items.reduce((sum, i) => sum + i.size, 0);
  const sentRanges = items.map(() => [] as { start: number; end: number }[]);
  let bytesSent = 0;
  const report = () =>
    onProgress({ bytesSent, bytesTotal, filesSent: filesSent(items, sentRanges), filesTotal: sources.length });
  report();

  const renew = async (fileIndex: number, partNumber: number): Promise<Target> => {
    const { uploadPartUrls } = await request<{ uploadPartUrls: Target[] }>(
      conn,
      `mutation ($uploadId: ID!, $fileIndex: Int!, $partNumbers: [Int!]!) { uploadPartUrls(uploadId: $uploadId, fileIndex: $fileIndex, partNumbers: $partNumbers) { ${TARGET_FIELDS} } }`,
      { uploadId, fileIndex, partNumbers: [partNumber] },
    );
    return uploadPartUrls[0]!;
  };

  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      const body = await readRange(job.item, sources, job.start, job.target.size);
      let target = job.target;
      let issuedAt = job.issuedAt;
      for (let attempt = 1; ; attempt++) {
        const expiresAt = Date.parse(target.expiresAt);
        if (expiresAt - Date.now() < Math.min(REFRESH_MARGIN_MS, (expiresAt - issuedAt) / 2)) {
          target = await renew(job.fileIndex, target.partNumber);
          issuedAt = Date.now();
        }
        const result = await put(target, body);
        if (result.ok) break;
        const what = `${job.item.path}: the store refused part ${target.partNumber} (${result.detail})`;
        if (!result.retryable || attempt >= MAX_ATTEMPTS) throw new CliError(what, 'UPLOAD_FAILED');
        if (result.expired) {
          target = await renew(job.fileIndex, target.partNumber);
          issuedAt = Date.now();
        } else await new Promise((r) => setTimeout(r, Math.min(8_000, 500 * 2 ** (attempt - 1))));
      }
      bytesSent += job.target.size;
      sentRanges[job.fileIndex]!.push({ start: job.start, end: job.start + job.target.size });
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PUTS, jobs.length) }, worker));

  const { completeUpload } = await request<{
    completeUpload: { version: { id: string; number: number; status: string } };
  }>(conn, `mutation ($uploadId: ID!) { completeUpload(uploadId: $uploadId) { version { id number status } } }`, {
    uploadId,
  });
  return { datasetId: createUpload.datasetId, version: completeUpload.version };
}

function filesSent(items: UploadItem[], ranges: { start: number; end: number }[][]): number {
  let count = 0;
  items.forEach((item, i) => {
    const covered = ranges[i]!.reduce((sum, r) => sum + (r.end - r.start), 0);
    if (item.kind === 'file') count += covered >= item.size ? 1 : 0;
    else count += item.layout.ends.filter((e) => ranges[i]!.some((r) => r.start <= e.start && e.end <= r.end)).length;
  });
  return count;
}

/** Bytes [start, start+size) of an item: of the file itself, or of the pack laid out over the files. */
async function readRange(
  item: UploadItem,
  sources: readonly LocalSource[],
  start: number,
  size: number,
): Promise<Buffer> {
  const out = Buffer.alloc(size);
  if (item.kind === 'file') {
    await readInto(sources[item.index]!.file, start, out, 0, size);
    return out;
  }
  let offset = 0; // of the current piece in the pack
  for (const piece of item.layout.pieces) {
    // planUploadItems only makes zip packs (CRC pieces) when asked to, which the CLI does not.
    if (piece.kind === 'crc') throw new Error('zip packs are not sent by the CLI');
    const length = piece.kind === 'bytes' ? piece.bytes.length : piece.size;
    const from = Math.max(start, offset);
    const to = Math.min(start + size, offset + length);
    if (from < to) {
      if (piece.kind === 'bytes') out.set(piece.bytes.subarray(from - offset, to - offset), from - start);
      else await readInto(sources[piece.index]!.file, from - offset, out, from - start, to - from);
    }
    offset += length;
    if (offset >= start + size) break;
  }
  return out;
}

async function readInto(file: string, position: number, out: Buffer, at: number, length: number): Promise<void> {
  const handle = await open(file, 'r');
  try {
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(out, at + done, length - done, position + done);
      if (bytesRead === 0)
        throw new CliError(`${file} changed while it was uploaded (it got shorter)`, 'UPLOAD_FAILED');
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

async function put(
  target: Target,
  body: Buffer,
): Promise<{ ok: true } | { ok: false; retryable: boolean; expired: boolean; detail: string }> {
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: target.method,
      headers: Object.fromEntries(target.headers.map((h) => [h.name, h.value])),
      body: body as Uint8Array<ArrayBuffer>,
    });
  } catch (err) {
    return { ok: false, retryable: true, expired: false, detail: `network error: ${(err as Error).message}` };
  }
  const text = await res.text();
  if (res.ok) return { ok: true };
  const expired = res.status === 403 && /expired/i.test(text);
  const transient = res.status >= 500 || res.status === 408 || res.status === 429;
  return { ok: false, retryable: expired || transient, expired, detail: `HTTP ${res.status} ${text.slice(0, 200)}` };
}

const TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  txt: 'text/plain',
  zip: 'application/zip',
  tar: 'application/x-tar',
  tgz: 'application/gzip',
  gz: 'application/gzip',
};

function contentTypeOf(path: string): string {
  return TYPES[path.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';
}
