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
  /** When the URL stops working (ms since the epoch) and when it was handed out; absent: never refreshed. */
  expiresAt?: number;
  issuedAt?: number;
}

export interface SendProgress {
  /** Bytes acknowledged or in flight so far, per file index. */
  sentByFile: Map<number, number>;
  sentTotal: number;
}

const PARALLEL_REQUESTS = 3;
/** Tries per part (network errors, 5xx, throttling, an expired URL) before the upload stops. */
const MAX_ATTEMPTS = 5;
/** A URL is replaced before sending when less than this is left of it (or less than half its lifetime). */
const REFRESH_MARGIN_MS = 60_000;

/** A part the store did not take; `retryable` when trying again (with a fresh URL if `expired`) may work. */
export class PartError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly expired = false,
  ) {
    super(message);
    this.name = 'PartError';
  }
}

/** Fresh URL(s) for a part: asked before a URL runs out and after the store said it had. */
export type RefreshPart = (part: PartTarget) => Promise<PartTarget>;
/** The bytes a part carries (see read-ahead.ts: small files are read into memory first). */
export type PartBody = (part: PartTarget) => Promise<Blob>;
/** What errors name an upload item by. */
type Named = Pick<File, 'name'>;

function needsRefresh(part: PartTarget, now: number): boolean {
  if (part.expiresAt === undefined) return false;
  const lifetime = part.issuedAt !== undefined ? part.expiresAt - part.issuedAt : Infinity;
  return part.expiresAt - now < Math.min(REFRESH_MARGIN_MS, lifetime / 2);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Sends every part with XMLHttpRequest (fetch cannot report upload progress), a few at a time.
 * `onProgress` is called as bytes go out, `onPartSent` when the store accepted a part (what a resumed
 * upload can skip); a failed part rejects with an error naming the file, after cancelling the others.
 */
export async function sendParts(
  files: readonly Named[],
  parts: readonly PartTarget[],
  onProgress: (progress: SendProgress) => void,
  bodyOf: PartBody,
  signal?: AbortSignal,
  onPartSent?: (part: PartTarget) => void,
  refresh?: RefreshPart,
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
        const body = await bodyOf(part);
        await sendWithRetries(file, body, part, stop.signal, refresh, (bytes) => {
          inFlight.set(part, bytes);
          report();
        });
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
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the first failing part threw, as it was
  if (failure !== undefined) throw failure;
}

/**
 * One part, tried up to MAX_ATTEMPTS times: its URL is replaced shortly before it runs out (and when the store
 * says it has), transient failures wait a growing pause. Only the part is sent again, never the whole upload.
 */
async function sendWithRetries(
  file: Named,
  body: Blob,
  part: PartTarget,
  signal: AbortSignal,
  refresh: RefreshPart | undefined,
  onBytes: (bytes: number) => void,
): Promise<void> {
  let target = part;
  for (let attempt = 1; ; attempt++) {
    if (refresh && needsRefresh(target, Date.now())) target = await refresh(target);
    try {
      await sendOne(file, body, target, onBytes, signal);
      return;
    } catch (err) {
      onBytes(0);
      if (signal.aborted || !(err instanceof PartError) || !err.retryable || attempt >= MAX_ATTEMPTS) throw err;
      if (err.expired && refresh) target = await refresh(target);
      else await sleep(Math.min(8_000, 500 * 2 ** (attempt - 1)), signal);
    }
  }
}

function sendOne(
  file: Named,
  body: Blob,
  part: PartTarget,
  onBytes: (bytes: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(part.method, part.url);
    for (const header of part.headers) xhr.setRequestHeader(header.name, header.value);
    xhr.upload.onprogress = (event) => onBytes(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      const body = xhr.responseText.slice(0, 200);
      const expired = xhr.status === 403 && /expired/i.test(body);
      const transient = xhr.status >= 500 || xhr.status === 408 || xhr.status === 429;
      reject(
        new PartError(
          `${file.name}: the store refused part ${part.partNumber} (HTTP ${xhr.status}) ${body}`,
          expired || transient,
          expired,
        ),
      );
    };
    xhr.onerror = () =>
      reject(new PartError(`${file.name}: part ${part.partNumber} could not be sent (network error)`, true));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}
