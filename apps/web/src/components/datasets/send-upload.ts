import { CompleteUploadMutation } from '../../graphql/operations/uploads';
import { request, type ApiResult } from '../../lib/graphql';
import { RateMeter } from '../../lib/upload/rate';
import { clearPending, markPartDone } from '../../lib/upload/resume-store';
import { sendParts, type PartTarget } from '../../lib/upload/send-parts';

export type UploadPhase =
  | { kind: 'idle' }
  | { kind: 'sending'; sent: Map<number, number>; total: number; rate: number; eta: number | null }
  | { kind: 'completing' };

/**
 * Sends `parts` (all of a new upload, or the missing ones of a resumed one: `stored` counts what the hub
 * already has), records each accepted part for a resume after a reload, then completes the upload and
 * forgets it. Rejects when a part cannot be sent; the kept record then still allows resuming.
 */
export async function sendAndComplete(options: {
  teamId: string;
  uploadId: string;
  files: readonly File[];
  parts: readonly PartTarget[];
  stored?: ReadonlyMap<number, number>;
  onPhase: (phase: UploadPhase) => void;
}): Promise<ApiResult<{ completeUpload: { version: { id: string; number: number; status: string } } }>> {
  const { teamId, uploadId, files, parts, onPhase } = options;
  const stored = new Map(options.stored ?? []);
  const storedTotal = [...stored.values()].reduce((a, b) => a + b, 0);
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  const meter = new RateMeter();
  onPhase({ kind: 'sending', sent: new Map(stored), total: storedTotal, rate: 0, eta: null });
  await sendParts(
    files,
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
      });
    },
    undefined,
    (part) => markPartDone(teamId, uploadId, part.fileIndex, part.partNumber),
  );
  onPhase({ kind: 'completing' });
  const completed = await request(CompleteUploadMutation, { uploadId });
  if (completed.ok) clearPending(teamId, uploadId);
  return completed;
}
