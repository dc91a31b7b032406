import { CompleteUploadMutation } from '../../graphql/operations/uploads';
import { request, type ApiResult } from '../../lib/graphql';
import { countFilesSent, partBody, type PreparedUpload } from '../../lib/upload/items';
import { RateMeter } from '../../lib/upload/rate';
import { partRefresher } from '../../lib/upload/resume';
import { clearPending, markPartDone } from '../../lib/upload/resume-store';
import { sendParts, type PartTarget } from '../../lib/upload/send-parts';

export type UploadPhase =
  | { kind: 'idle' }
  | {
      kind: 'sending';
      sent: Map<number, number>;
      total: number;
      rate: number;
      eta: number | null;
      /** Picked files wholly stored so far (a pack's files count as their bytes arrive). */
      filesSent?: number;
    }
  | { kind: 'completing' };

/**
 * Sends `parts` (all of a new upload, or the missing ones of a resumed one: `stored` counts what the hub
 * already has), records each accepted part for a resume after a reload, then completes the upload and
 * forgets it. URLs are renewed before they run out and failed parts retried (see sendParts). Rejects when a
 * part cannot be sent; the kept record then still allows resuming.
 */
export async function sendAndComplete(options: {
  teamId: string;
  uploadId: string;
  prepared: PreparedUpload;
  parts: readonly PartTarget[];
  stored?: ReadonlyMap<number, number>;
  onPhase: (phase: UploadPhase) => void;
}): Promise<ApiResult<{ completeUpload: { version: { id: string; number: number; status: string } } }>> {
  const { teamId, uploadId, prepared, parts, onPhase } = options;
  const stored = new Map(options.stored ?? []);
  const storedTotal = [...stored.values()].reduce((a, b) => a + b, 0);
  const totalBytes = prepared.items.reduce((sum, item) => sum + item.size, 0);
  // Byte ranges of each item that are stored: all of it but the parts still to send.
  const sentRanges = new Map<number, { start: number; end: number }[]>();
  const pendingByItem = new Map<number, PartTarget[]>();
  for (const part of parts) pendingByItem.set(part.fileIndex, [...(pendingByItem.get(part.fileIndex) ?? []), part]);
  prepared.items.forEach((item, index) => {
    const pending = (pendingByItem.get(index) ?? []).sort((a, b) => a.start - b.start);
    const ranges: { start: number; end: number }[] = [];
    let at = 0;
    for (const part of pending) {
      if (part.start > at) ranges.push({ start: at, end: part.start });
      at = part.start + part.size;
    }
    if (at < item.size) ranges.push({ start: at, end: item.size });
    sentRanges.set(index, ranges);
  });
  let filesSent = countFilesSent(prepared, sentRanges);
  const meter = new RateMeter();
  onPhase({ kind: 'sending', sent: new Map(stored), total: storedTotal, rate: 0, eta: null, filesSent });
  await sendParts(
    prepared.blobs,
    parts,
    ({ sentByFile, sentTotal }) => {
      // Speed is what this page sends; bytes stored before the reload only count towards the progress.
      meter.sample(sentTotal, performance.now());
      const sent = new Map(stored);
      for (const [index, bytes] of sentByFile) sent.set(index, (sent.get(index) ?? 0) + bytes);
      onPhase({
        kind: 'sending',
        sent,
        total: storedTotal + sentTotal,
        rate: meter.bytesPerSecond(),
        eta: meter.secondsLeft(totalBytes - storedTotal - sentTotal),
        filesSent,
      });
    },
    (part) => partBody(prepared, part),
    undefined,
    (part) => {
      markPartDone(teamId, uploadId, part.fileIndex, part.partNumber);
      sentRanges.get(part.fileIndex)?.push({ start: part.start, end: part.start + part.size });
      filesSent = countFilesSent(prepared, sentRanges);
    },
    partRefresher(uploadId),
  );
  onPhase({ kind: 'completing' });
  const completed = await request(CompleteUploadMutation, { uploadId });
  if (completed.ok) clearPending(teamId, uploadId);
  return completed;
}
