import { formatBytes } from './rate';
import type { FileFingerprint } from './resume-store';

export type MatchResult = { ok: true; files: File[] } | { ok: false; message: string };

const sameFile = (a: FileFingerprint, b: FileFingerprint) =>
  a.name === b.name && a.size === b.size && a.lastModified === b.lastModified;

/**
 * Pairs the files picked again after a reload with the files of the interrupted upload, by fingerprint
 * (name, size, modification time; the path only breaks ties), returning them in the upload's file order.
 * Anything else is refused with a message that names the file and what differs: sending a different file
 * into the old upload's parts would assemble a corrupt one.
 */
export function matchPickedFiles(
  expected: readonly FileFingerprint[],
  picked: readonly { file: File; path: string }[],
): MatchResult {
  const candidates = picked.map((p) => ({
    file: p.file,
    print: { path: p.path, name: p.file.name, size: p.file.size, lastModified: p.file.lastModified },
  }));
  const used = new Set<number>();
  const files: File[] = [];
  const missing: FileFingerprint[] = [];
  for (const want of expected) {
    let index = candidates.findIndex((c, i) => !used.has(i) && sameFile(c.print, want) && c.print.path === want.path);
    if (index < 0) index = candidates.findIndex((c, i) => !used.has(i) && sameFile(c.print, want));
    if (index < 0) {
      missing.push(want);
      continue;
    }
    used.add(index);
    files.push(candidates[index]!.file);
  }
  const extra = candidates.filter((_, i) => !used.has(i));

  // A file with an expected name but other contents is the likeliest mistake: say exactly what differs.
  for (const want of missing) {
    const lookalike = extra.find((c) => c.print.name === want.name);
    if (lookalike) {
      return {
        ok: false,
        message: `“${lookalike.print.path}” is not the file that was being uploaded: that one had ${describe(want)}, this one has ${describe(lookalike.print)}. Choose the same file, or discard the interrupted upload.`,
      };
    }
  }
  if (missing.length > 0) {
    return {
      ok: false,
      message: `Choose all ${expected.length} ${expected.length === 1 ? 'file' : 'files'} of the interrupted upload; missing: ${listed(missing.map((m) => m.path))}.`,
    };
  }
  if (extra.length > 0) {
    return {
      ok: false,
      message: `${listed(extra.map((e) => e.print.path))} ${extra.length === 1 ? 'was' : 'were'} not part of the interrupted upload. Choose only its files to resume it, or discard it to start a new upload.`,
    };
  }
  return { ok: true, files };
}

function describe(print: FileFingerprint): string {
  return `${formatBytes(print.size)} (${print.size} bytes), modified ${new Date(print.lastModified).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

function listed(paths: string[]): string {
  const shown = paths.slice(0, 3).map((p) => `“${p}”`);
  return paths.length > 3 ? `${shown.join(', ')} and ${paths.length - 3} more` : shown.join(', ');
}
