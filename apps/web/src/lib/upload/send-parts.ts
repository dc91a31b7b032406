/** One HTTP request of an upload: a whole small file, or one part of a multipart file. */
export interface PartTarget {
  fileIndex: number;
  partNumber: number;
  method: string;
  url: string;
  /** Byte range of the file this request carries. */
  start: number;
  size: number;
  headers: readonly { name: string; value: string }[];
}

export interface SendProgress {
  /** Bytes acknowledged or in flight so far, per file index. */
  sentByFile: Map<number, number>;
  sentTotal: number;
}

const PARALLEL_REQUESTS = 3;

/**
 * Sends every part with XMLHttpRequest (fetch cannot report upload progress), a few at a time.
 * `onProgress` is called as bytes go out, `onPartSent` when the store accepted a part (what a resumed
 * upload can skip); a failed part rejects with an error naming the file, after cancelling the others.
 */
export async function sendParts(
  files: readonly File[],
  parts: readonly PartTarget[],
  onProgress: (progress: SendProgress) => void,
  signal?: AbortSignal,
  onPartSent?: (part: PartTarget) => void,
): Promise<void> {
  const inFlight = new Map<PartTarget, number>();
  const done = new Map<number, number>();
  const report = () => {
    const sentByFile = new Map(done);
    for (const [part, bytes] of inFlight) sentByFile.set(part.fileIndex, (sentByFile.get(part.fileIndex) ?? 0) + bytes);
    let sentTotal = 0;
    for (const bytes of sentByFile.values()) sentTotal += bytes;
    onProgress({ sentByFile, sentTotal });
  };

  // One failed part stops the upload: the parts still in flight are cancelled and no new one starts, so once
  // this rejects nothing is being sent any more (a retry then asks the store what arrived and sends the rest).
  const stop = new AbortController();
  signal?.addEventListener('abort', () => stop.abort(), { once: true });
  let failure: unknown;
  let next = 0;
  const worker = async () => {
    while (next < parts.length && !stop.signal.aborted) {
      const part = parts[next++]!;
      const file = files[part.fileIndex];
      if (!file) throw new Error(`No file for upload index ${part.fileIndex}`);
      inFlight.set(part, 0);
      try {
        await sendOne(
          file,
          part,
          (bytes) => {
            inFlight.set(part, bytes);
            report();
          },
          stop.signal,
        );
      } catch (err) {
        failure ??= err;
        inFlight.delete(part);
        stop.abort();
        return;
      }
      inFlight.delete(part);
      done.set(part.fileIndex, (done.get(part.fileIndex) ?? 0) + part.size);
      onPartSent?.(part);
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_REQUESTS, parts.length) }, worker));
  if (failure !== undefined) throw failure;
}

function sendOne(file: File, part: PartTarget, onBytes: (bytes: number) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(part.method, part.url);
    for (const header of part.headers) xhr.setRequestHeader(header.name, header.value);
    xhr.upload.onprogress = (event) => onBytes(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else
        reject(
          new Error(
            `${file.name}: the store refused part ${part.partNumber} (HTTP ${xhr.status}) ${xhr.responseText.slice(0, 200)}`,
          ),
        );
    };
    xhr.onerror = () => reject(new Error(`${file.name}: part ${part.partNumber} could not be sent (network error)`));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file.slice(part.start, part.start + part.size));
  });
}
