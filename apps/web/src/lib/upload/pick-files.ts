import { uploadPath } from './plan';

/** A file with the path it is declared under (`cats/1.png`: a top-level folder becomes its label). */
export interface PickedFile {
  file: File;
  path: string;
}

/**
 * Files chosen with a folder picker carry `webkitRelativePath` starting with the chosen folder's own
 * name; that first segment is dropped so the chosen folder's sub-folders become the labels.
 */
export function fromInput(list: FileList): PickedFile[] {
  return Array.from(list, (file) => {
    const path = uploadPath(file);
    const segments = path.split('/');
    return { file, path: segments.length > 1 ? segments.slice(1).join('/') : path };
  });
}

/** Files and folders dropped on the page, folders walked recursively (paths relative to what was dropped). */
export async function fromDrop(items: DataTransferItemList): Promise<PickedFile[]> {
  const entries = Array.from(items)
    .map((item) => item.webkitGetAsEntry?.())
    .filter((entry): entry is FileSystemEntry => !!entry);
  const picked: PickedFile[] = [];
  // A single dropped folder is treated like a folder picker: its sub-folders become the labels.
  const single = entries.length === 1 && entries[0]!.isDirectory;
  for (const entry of entries)
    await walk(entry, single ? '' : entry.isDirectory ? `${entry.name}/` : '', picked, single);
  return picked;
}

async function walk(entry: FileSystemEntry, prefix: string, out: PickedFile[], isRoot = false): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path: isRoot ? file.name : `${prefix}${file.name}`.replace(/^\/+/, '') });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns the folder in batches; an empty batch means done.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch)
      await walk(
        child,
        isRoot ? (child.isDirectory ? `${child.name}/` : '') : `${prefix}${child.isDirectory ? `${child.name}/` : ''}`,
        out,
      );
  }
}
