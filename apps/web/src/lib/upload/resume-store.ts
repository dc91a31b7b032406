/**
 * The in-progress upload of a team, kept in localStorage so a reload (or a closed tab) can resume it:
 * File objects do not survive a reload, so what is kept is each file's fingerprint, to recognise the
 * same file when the person picks it again, and the parts known to have arrived (the server's
 * `upload(id)` stays the truth about those; this copy lets the page say how far it got before asking).
 */

/** What identifies a picked file across a reload: its declared path, name, exact size and modification time. */
export interface FileFingerprint {
  path: string;
  name: string;
  size: number;
  lastModified: number;
}

export interface PendingFile extends FileFingerprint {
  /** Multipart part size (every part but the last); null for a file sent in one PUT. */
  partSize: number | null;
  partCount: number;
  /** Part numbers known to be stored. */
  partsDone: number[];
}

export interface PendingUpload {
  uploadId: string;
  datasetId: string;
  datasetName: string;
  /** The upload's items (files as they are, or packs of many files). */
  files: PendingFile[];
  /**
   * The picked files, in order, when some were packed: a resume matches the files picked again against these
   * and rebuilds the same packs from them (absent: every item is a picked file, matched against `files`).
   */
  sources?: FileFingerprint[];
  savedAt: string;
}

const KEY_PREFIX = 'dapple:pending-upload:';
const keyOf = (teamId: string) => `${KEY_PREFIX}${teamId}`;

export function fingerprintOf(file: Pick<File, 'name' | 'size' | 'lastModified'>, path: string): FileFingerprint {
  return { path, name: file.name, size: file.size, lastModified: file.lastModified };
}

/** Bytes of a part: every part but the last has `partSize`; a single-PUT file is one part of its whole size. */
export function partLength(
  file: { size: number; partSize: number | null; partCount: number },
  partNumber: number,
): number {
  if (file.partSize === null) return file.size;
  return partNumber < file.partCount ? file.partSize : file.size - file.partSize * (file.partCount - 1);
}

/** Bytes of the upload known to be stored, and its total. */
export function pendingProgress(pending: PendingUpload): { doneBytes: number; totalBytes: number } {
  let doneBytes = 0;
  let totalBytes = 0;
  for (const file of pending.files) {
    totalBytes += file.size;
    for (const n of new Set(file.partsDone)) doneBytes += partLength(file, n);
  }
  return { doneBytes, totalBytes };
}

export function loadPending(teamId: string): PendingUpload | null {
  let raw: string | null;
  try {
    raw = window.localStorage.getItem(keyOf(teamId));
  } catch {
    return null; // storage disabled (private mode, policy): nothing to resume
  }
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as PendingUpload;
    if (
      typeof value?.uploadId === 'string' &&
      typeof value.datasetId === 'string' &&
      Array.isArray(value.files) &&
      value.files.every(isPendingFile) &&
      (value.sources === undefined || (Array.isArray(value.sources) && value.sources.every(isFingerprint)))
    )
      return value;
  } catch {
    // fall through: an unreadable entry (an older format, edited by hand) is dropped
  }
  clearPending(teamId);
  return null;
}

export function savePending(teamId: string, pending: PendingUpload): void {
  try {
    window.localStorage.setItem(keyOf(teamId), JSON.stringify({ ...pending, savedAt: new Date().toISOString() }));
  } catch {
    // Full or disabled storage: the upload still runs, it just cannot be resumed after a reload.
  }
}

/** Records that a part arrived (no-op when the kept upload is another one: a second tab replaced it). */
export function markPartDone(teamId: string, uploadId: string, fileIndex: number, partNumber: number): void {
  const pending = loadPending(teamId);
  const file = pending?.uploadId === uploadId ? pending.files[fileIndex] : undefined;
  if (!pending || !file || file.partsDone.includes(partNumber)) return;
  file.partsDone.push(partNumber);
  savePending(teamId, pending);
}

/** Forgets the kept upload (only `uploadId`'s, when given). */
export function clearPending(teamId: string, uploadId?: string): void {
  if (uploadId !== undefined && loadPending(teamId)?.uploadId !== uploadId) return;
  try {
    window.localStorage.removeItem(keyOf(teamId));
  } catch {
    // storage disabled: nothing was kept
  }
}

function isFingerprint(f: unknown): f is FileFingerprint {
  const file = f as FileFingerprint;
  return (
    typeof file?.path === 'string' &&
    typeof file.name === 'string' &&
    typeof file.size === 'number' &&
    typeof file.lastModified === 'number'
  );
}

function isPendingFile(f: unknown): f is PendingFile {
  const file = f as PendingFile;
  return (
    isFingerprint(file) &&
    (file.partSize === null || typeof file.partSize === 'number') &&
    typeof file.partCount === 'number' &&
    Array.isArray(file.partsDone)
  );
}
