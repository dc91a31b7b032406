import { UploadPartUrlsMutation, UploadStateQuery } from '../../graphql/operations/uploads';
import { request } from '../graphql';
import { PartError, type PartTarget, type RefreshPart } from './send-parts';
import { partLength } from './resume-store';

/** What the server says arrived of an upload: per file, the part numbers stored (all of them once it is whole). */
export interface ServerProgress {
  files: { index: number; size: number; partSize: number | null; partCount: number; receivedParts: number[] }[];
}

export type ResumeState =
  { kind: 'open'; progress: ServerProgress } | { kind: 'gone'; message: string } | { kind: 'error'; message: string };

/**
 * Asks the hub what of the upload is stored. `gone` when it can no longer be resumed (completed, aborted,
 * expired, or deleted with its dataset): the kept copy should then be forgotten.
 */
export async function fetchUploadState(uploadId: string): Promise<ResumeState> {
  const result = await request(UploadStateQuery, { id: uploadId });
  if (!result.ok) {
    const error = result.errors[0];
    if (error?.code === 'NOT_FOUND')
      return {
        kind: 'gone',
        message: 'The interrupted upload no longer exists (its dataset was deleted, or it was cleaned up).',
      };
    return { kind: 'error', message: error?.message ?? 'Could not check the interrupted upload' };
  }
  const upload = result.data.upload;
  if (upload.status === 'COMPLETED')
    return {
      kind: 'gone',
      message:
        'The interrupted upload was finished after all (from another tab?); its dataset version is being prepared.',
    };
  if (upload.status === 'ABORTED')
    return { kind: 'gone', message: 'The interrupted upload was discarded or expired; start a new upload.' };
  if (new Date(upload.expiresAt).getTime() <= Date.now())
    return { kind: 'gone', message: 'The interrupted upload expired; start a new upload.' };
  return {
    kind: 'open',
    progress: {
      files: upload.files.map((f) => ({
        index: f.index,
        size: f.size,
        partSize: f.multipart ? (f.partSize ?? null) : null,
        partCount: f.partCount,
        receivedParts: f.received ? Array.from({ length: f.partCount }, (_, i) => i + 1) : [...f.receivedParts],
      })),
    },
  };
}

/** Bytes already stored, per file index. */
export function storedBytesByFile(progress: ServerProgress): Map<number, number> {
  const out = new Map<number, number>();
  for (const file of progress.files)
    out.set(
      file.index,
      file.receivedParts.reduce((sum, n) => sum + partLength(file, n), 0),
    );
  return out;
}

/** Fresh URLs for exactly the parts the hub does not have, as byte ranges of the local files. */
export async function missingPartTargets(
  uploadId: string,
  progress: ServerProgress,
): Promise<{ ok: true; parts: PartTarget[] } | { ok: false; message: string }> {
  const parts: PartTarget[] = [];
  for (const file of progress.files) {
    const stored = new Set(file.receivedParts);
    const missing = Array.from({ length: file.partCount }, (_, i) => i + 1).filter((n) => !stored.has(n));
    if (missing.length === 0) continue;
    const result = await request(UploadPartUrlsMutation, { uploadId, fileIndex: file.index, partNumbers: missing });
    if (!result.ok)
      return { ok: false, message: result.errors[0]?.message ?? 'Could not get upload URLs for the missing parts' };
    for (const target of result.data.uploadPartUrls) {
      const start = file.partSize === null ? 0 : (target.partNumber - 1) * file.partSize;
      parts.push({
        fileIndex: file.index,
        partNumber: target.partNumber,
        method: target.method,
        url: target.url,
        start,
        size: target.size,
        headers: target.headers,
        expiresAt: Date.parse(target.expiresAt),
        issuedAt: Date.now(),
      });
    }
  }
  return { ok: true, parts };
}

/** Replaces a part's URL with a fresh one from the hub (before it runs out, or after the store said it had). */
export function partRefresher(uploadId: string): RefreshPart {
  return async (part) => {
    const result = await request(UploadPartUrlsMutation, {
      uploadId,
      fileIndex: part.fileIndex,
      partNumbers: [part.partNumber],
    });
    const target = result.ok ? result.data.uploadPartUrls[0] : undefined;
    if (!target) {
      const reason = result.ok ? 'the hub sent none' : (result.errors[0]?.message ?? 'the hub did not answer');
      throw new PartError(`Could not renew the upload URL of part ${part.partNumber}: ${reason}`, false);
    }
    return {
      ...part,
      url: target.url,
      method: target.method,
      headers: target.headers,
      expiresAt: Date.parse(target.expiresAt),
      issuedAt: Date.now(),
    };
  };
}
