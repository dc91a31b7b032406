'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { AbortUploadMutation } from '../../graphql/operations/uploads';
import { request } from '../../lib/graphql';
import type { PickedFile } from '../../lib/upload/pick-files';
import { prepareUpload, type PreparedUpload } from '../../lib/upload/items';
import { fetchUploadState, missingPartTargets, storedBytesByFile } from '../../lib/upload/resume';
import { matchPickedFiles } from '../../lib/upload/resume-match';
import { clearPending, pendingProgress, savePending, type PendingUpload } from '../../lib/upload/resume-store';
import { FieldError } from '../Field';
import { FileDrop } from './FileDrop';
import { sendAndComplete, type UploadPhase } from './send-upload';
import { UploadSummary } from './UploadSummary';
import styles from './datasets.module.css';
import { BusyButton } from '../BusyButton';

/**
 * An upload interrupted by a reload (or a closed tab), kept in localStorage: the person picks the same
 * file(s) again, which are checked against the kept fingerprints, and only the parts the hub does not
 * have are sent. "Discard" aborts the upload on the hub (its stored parts are deleted).
 */
export function ResumeUpload({
  teamId,
  teamSlug,
  pending: initial,
  onGone,
}: {
  teamId: string;
  teamSlug: string;
  pending: PendingUpload;
  /** The upload is no more (discarded here, or finished/aborted/expired elsewhere): show the new-dataset form. */
  onGone: (notice: string) => void;
}) {
  const router = useRouter();
  const [pending, setPending] = useState(initial);
  const [phase, setPhase] = useState<UploadPhase>({ kind: 'idle' });
  const [error, setError] = useState<string | null>(null);
  const [discarding, setDiscarding] = useState(false);
  const busy = phase.kind !== 'idle' || discarding;

  // The kept copy may be stale (a part finished as the page unloaded, or the upload ended elsewhere): ask the hub.
  useEffect(() => {
    let cancelled = false;
    void fetchUploadState(initial.uploadId).then((state) => {
      if (cancelled) return;
      if (state.kind === 'gone') {
        clearPending(teamId, initial.uploadId);
        onGone(state.message);
      } else if (state.kind === 'open') {
        const synced = {
          ...initial,
          files: initial.files.map((f, i) => ({
            ...f,
            partsDone: state.progress.files[i]?.receivedParts ?? f.partsDone,
          })),
        };
        savePending(teamId, synced);
        setPending(synced);
      }
    });
    return () => {
      cancelled = true;
    };
  }, [initial, teamId, onGone]);

  const { doneBytes, totalBytes } = pendingProgress(pending);
  const percent = totalBytes > 0 ? Math.floor((doneBytes / totalBytes) * 100) : 0;
  const picked = pending.sources ?? pending.files;
  const what = picked.length === 1 ? `“${picked[0]!.name}”` : `${picked.length.toLocaleString('en')} files`;
  const stored = new Map(pending.files.map((f, i) => [i, pendingProgress({ ...pending, files: [f] }).doneBytes]));

  async function resume(picked: PickedFile[]) {
    setError(null);
    const rebuilt = rebuild(pending, picked);
    if (!rebuilt.ok) return setError(rebuilt.message);
    setPhase({ kind: 'sending', sent: stored, total: doneBytes, rate: 0, eta: null });
    try {
      const state = await fetchUploadState(pending.uploadId);
      if (state.kind === 'gone') {
        clearPending(teamId, pending.uploadId);
        return onGone(state.message);
      }
      if (state.kind === 'error') return fail(state.message);
      const targets = await missingPartTargets(pending.uploadId, state.progress);
      if (!targets.ok) return fail(targets.message);
      const completed = await sendAndComplete({
        teamId,
        uploadId: pending.uploadId,
        prepared: rebuilt.prepared,
        parts: targets.parts,
        stored: storedBytesByFile(state.progress),
        onPhase: setPhase,
      });
      if (!completed.ok) return fail(completed.errors[0]?.message ?? 'Could not finish the upload');
      router.push(`/t/${teamSlug}/datasets`);
      router.refresh();
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
  }

  function fail(message: string) {
    setError(`${message} Choose the file(s) again to retry.`);
    setPhase({ kind: 'idle' });
  }

  async function discard() {
    setDiscarding(true);
    setError(null);
    const result = await request(AbortUploadMutation, { uploadId: pending.uploadId });
    setDiscarding(false);
    // CONFLICT or NOT_FOUND: it already ended, which is what discarding wants.
    if (!result.ok && !result.errors.some((e) => e.code === 'CONFLICT' || e.code === 'NOT_FOUND')) {
      return setError(result.errors[0]?.message ?? 'Could not discard the upload');
    }
    clearPending(teamId, pending.uploadId);
    onGone(
      `Discarded the upload to “${pending.datasetName}”. The dataset itself stays, without images: upload to it again or delete it from its page.`,
    );
  }

  return (
    <section className="card card-body form" aria-labelledby="resume-heading">
      <div className={styles.resumeBanner} role="status">
        <h2 id="resume-heading" className={styles.resumeTitle}>
          Upload of {what} interrupted at {percent}% — choose the same {picked.length === 1 ? 'file' : 'files'} to
          resume
        </h2>
        <p className="muted">
          Dataset “{pending.datasetName}”. Only the parts that did not arrive are sent again; files are recognised by
          name, size and modification time.
        </p>
      </div>
      <UploadSummary files={pending.files} fileCount={picked.length} phase={phase} stored={stored} />
      <div className="field">
        <span className="field-label" id="resume-files-label">
          The same {picked.length === 1 ? 'file' : 'files'}
        </span>
        <FileDrop
          labelledBy="resume-files-label"
          errorId={error ? 'resume-error' : undefined}
          disabled={busy}
          hint={
            picked.length === 1 ? `${picked[0]!.path}` : `all ${picked.length} files of the upload, or their folder`
          }
          onFiles={(files) => void resume(files)}
        />
        {error ? <FieldError id="resume-error">{error}</FieldError> : null}
      </div>
      <div className="form-row">
        <BusyButton busy={discarding} disabled={busy} onClick={() => void discard()}>
          Discard
        </BusyButton>
        {phase.kind !== 'idle' ? (
          <span className="muted">{phase.kind === 'completing' ? 'Finishing…' : 'Resuming…'}</span>
        ) : null}
      </div>
    </section>
  );
}

/**
 * The upload's items again from the files picked after the reload: matched by fingerprint against what was
 * picked before, then (when files were packed) packed again in the same order, which gives the same bytes.
 */
function rebuild(
  pending: PendingUpload,
  picked: PickedFile[],
): { ok: true; prepared: PreparedUpload } | { ok: false; message: string } {
  if (!pending.sources) {
    const match = matchPickedFiles(pending.files, picked);
    if (!match.ok) return match;
    return {
      ok: true,
      prepared: {
        items: match.files.map((file, index) => ({
          kind: 'file',
          path: pending.files[index]!.path,
          size: file.size,
          index,
        })),
        blobs: match.files,
        pieces: match.files.map((file, index) => [{ kind: 'file', file, path: pending.files[index]!.path }]),
        cache: new Map(),
        crcs: new Map(),
        sourceCount: match.files.length,
      },
    };
  }
  const sources = pending.sources;
  const match = matchPickedFiles(sources, picked);
  if (!match.ok) return match;
  const prepared = prepareUpload(match.files.map((file, i) => ({ file, path: sources[i]!.path })));
  const same =
    prepared.items.length === pending.files.length &&
    prepared.items.every((item, i) => item.path === pending.files[i]!.path && item.size === pending.files[i]!.size);
  if (!same)
    return { ok: false, message: 'These files do not make up the interrupted upload; discard it and start a new one.' };
  return { ok: true, prepared };
}
