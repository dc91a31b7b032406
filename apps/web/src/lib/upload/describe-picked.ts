import { isArchivePath } from '@dapple/contracts/upload-pack';

/** Image files by name; the hub decides by their bytes (a misnamed file is still read for what it is). */
const IMAGE_NAME = /\.(png|jpe?g|jpe|jfif|webp|gif)$/i;

/**
 * What the upload button sends, in words: "613 images, 1 caption and 1 other file". Counted by file name, for the
 * label only: captions are `.txt` beside an image, and "other" is everything the hub will skip (hidden files such as
 * `.DS_Store`) or reject (a `notes.md`), so a folder's stray files are not announced as images. The hidden-file and
 * caption rules are the hub's (`isJunkPath`, `isCaptionPath` in packages/datasets/src/paths.ts), restated here:
 * the dashboard does not ship @dapple/datasets (it brings sharp), and a label that drifted would only miscount.
 */
export function describePicked(picked: readonly { path: string }[]): string {
  if (picked.length === 0) return 'images';
  let images = 0;
  let captions = 0;
  let archives = 0;
  for (const { path } of picked) {
    const segments = path.split('/');
    // Hidden files and folders and macOS resource forks, which the hub skips: "other" files.
    if (segments[0] === '__MACOSX' || segments.some((s) => s.startsWith('.'))) continue;
    const name = segments.at(-1)!;
    if (isArchivePath(path)) archives++;
    else if (IMAGE_NAME.test(name)) images++;
    else if (/\.txt$/i.test(name)) captions++;
  }
  const others = picked.length - images - captions - archives;
  const count = (n: number, one: string) => `${n.toLocaleString('en')} ${one}${n === 1 ? '' : 's'}`;
  const parts = [
    images ? count(images, 'image') : null,
    archives ? count(archives, 'archive') : null,
    captions ? count(captions, 'caption') : null,
    others ? count(others, 'other file') : null,
  ].filter((p): p is string => p !== null);
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0]!;
}
