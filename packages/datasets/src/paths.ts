import { ArchiveError } from './errors.ts';

/**
 * Dataset member paths: archive entries and uploaded file paths, always relative, always `/`-separated.
 *
 * Rules (the same for uploads and archive members):
 * - `\` is treated as a separator (zips made on Windows use it), `.` segments and empty segments are dropped;
 * - `..` anywhere, a leading `/`, a drive letter (`C:`), a NUL or other control character is refused;
 * - `__MACOSX/…` and any segment starting with `.` (`.DS_Store`, `.git/…`) are junk, skipped silently.
 */
export function normaliseMemberPath(raw: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
  if (/[\u0000-\u001f\u007f]/.test(raw)) {
    throw new ArchiveError('unsafe_path', `path ${JSON.stringify(raw)} contains a control character`, { entry: raw });
  }
  const slashed = raw.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed)) {
    throw new ArchiveError(
      'absolute_path',
      `path ${JSON.stringify(raw)} is absolute; archive members must be relative`,
      {
        entry: raw,
      },
    );
  }
  const segments = slashed.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) {
    throw new ArchiveError('path_traversal', `path ${JSON.stringify(raw)} climbs out of the archive with ".."`, {
      entry: raw,
    });
  }
  if (segments.length === 0) {
    throw new ArchiveError('unsafe_path', `path ${JSON.stringify(raw)} is empty`, { entry: raw });
  }
  return segments.join('/');
}

/** Files nobody means to train on: macOS resource forks and hidden files or folders. */
export function isJunkPath(path: string): boolean {
  const segments = path.split('/');
  return segments[0] === '__MACOSX' || segments.some((s) => s.startsWith('.'));
}

/** The class label: the top-level folder of the member path, or undefined for a file at the root. */
export function labelOf(path: string): string | undefined {
  const slash = path.indexOf('/');
  return slash > 0 ? path.slice(0, slash) : undefined;
}

/** The folders of a member path (relative to the upload or its archive): `digits/0/a.png` → ['digits', '0']. */
export function foldersOf(path: string): string[] {
  return path.split('/').slice(0, -1);
}

/** `cats/a.png` and `cats/a.txt` share the key `cats/a`: that is how a caption finds its image. */
export function captionKey(path: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash + 1 ? path.slice(0, dot) : path;
}

export function isCaptionPath(path: string): boolean {
  return path.toLowerCase().endsWith('.txt');
}

const ARCHIVE_EXTENSIONS = ['.zip', '.tar', '.tgz', '.tar.gz', '.gz', '.7z', '.rar', '.bz2', '.xz', '.zst', '.jar'];

/** Archives inside archives are refused: by name here, by magic bytes in `sniffArchive`. */
export function hasArchiveExtension(path: string): boolean {
  const lower = path.toLowerCase();
  return ARCHIVE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}
