/**
 * Class labels from folders. Each image's folders (relative to the upload, or to its archive) are seen
 * while the upload streams; the label level is known only once every path is: labels come from the
 * first level that has more than one folder, so `digits.zip` holding `digits/0/…`, `digits/1/…` (one
 * wrapper folder) labels its images `0` and `1`, not `digits`. Images sitting above that level (a file
 * in the wrapper itself, or at the root) are unlabelled; folders below it belong to their label
 * (`cats/persian/…` is `cats` when `dogs/…` exists beside it).
 *
 * Shards are written while streaming, so they store a provisional id per distinct folder path (in the
 * order first seen); `finish` maps those to the final labels. Ids map one to one in the common cases
 * (class folders, with or without one wrapper); when they do not, the manifest carries the mapping.
 */
export class FolderLabels {
  private readonly ids = new Map<string, number>();
  private readonly paths: string[][] = [];

  /** Provisional id of an image with these folders (-1: no folder, a file at the root). */
  add(folders: readonly string[]): number {
    if (folders.length === 0) return -1;
    const key = folders.join('/');
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.paths.length;
      this.ids.set(key, id);
      this.paths.push([...folders]);
    }
    return id;
  }

  /** The label level: the first with more than one folder, or the deepest level all folder paths share. */
  private level(): number {
    let level = 0;
    for (;;) {
      const here = new Set(this.paths.filter((p) => p.length > level).map((p) => p[level]));
      const deeper = this.paths.some((p) => p.length > level + 1);
      if (here.size !== 1 || !deeper) return level;
      level += 1;
    }
  }

  /**
   * names: the labels in first-seen order; finalOf[provisional id] = label index or -1 (unlabelled);
   * identity: true when finalOf[i] === i for every id (the shards' ids are already the final ones).
   */
  finish(): { names: string[]; finalOf: number[]; identity: boolean } {
    const level = this.level();
    const names: string[] = [];
    const index = new Map<string, number>();
    const finalOf = this.paths.map((p) => {
      if (p.length <= level) return -1;
      const name = p[level]!;
      let i = index.get(name);
      if (i === undefined) {
        i = names.length;
        index.set(name, i);
        names.push(name);
      }
      return i;
    });
    return { names, finalOf, identity: finalOf.every((f, i) => f === i) };
  }

  /** The final label of a provisional id (after finish). */
  static nameOf(finished: { names: string[]; finalOf: number[] }, provisional: number): string | undefined {
    if (provisional < 0) return undefined;
    const f = finished.finalOf[provisional]!;
    return f < 0 ? undefined : finished.names[f];
  }
}
