import type { PartTarget } from './send-parts';

interface UploadFileTargets {
  index: number;
  parts: readonly {
    partNumber: number;
    method: string;
    url: string;
    size: number;
    expiresAt?: string;
    headers: readonly { name: string; value: string }[];
  }[];
}

/** Turns the server's per-file upload targets into byte ranges of the local files, in part order. */
export function planParts(files: readonly UploadFileTargets[]): PartTarget[] {
  const plan: PartTarget[] = [];
  const issuedAt = Date.now();
  for (const file of files) {
    let start = 0;
    for (const part of [...file.parts].sort((a, b) => a.partNumber - b.partNumber)) {
      plan.push({
        fileIndex: file.index,
        partNumber: part.partNumber,
        method: part.method,
        url: part.url,
        start,
        size: part.size,
        headers: part.headers,
        ...(part.expiresAt ? { expiresAt: Date.parse(part.expiresAt), issuedAt } : {}),
      });
      start += part.size;
    }
  }
  return plan;
}

/** The path a file is declared under: its folder-relative path when a folder was picked, else its name. */
export function uploadPath(file: File): string {
  const relative = (file as File & { webkitRelativePath?: string }).webkitRelativePath;
  return relative && relative.length > 0 ? relative : file.name;
}

/** A content type for the declaration; browsers leave it empty for unknown extensions. */
export function contentTypeOf(file: File): string {
  return file.type || 'application/octet-stream';
}
