'use client';

import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ResumeUpload } from '../../../../../../components/datasets/ResumeUpload';
import { FileDrop } from '../../../../../../components/datasets/FileDrop';
import { sendAndComplete, type UploadPhase } from '../../../../../../components/datasets/send-upload';
import { UploadSummary } from '../../../../../../components/datasets/UploadSummary';
import { FieldError, FormError, SelectField, TextField } from '../../../../../../components/Field';
import { SubmitButton } from '../../../../../../components/SubmitButton';
import { AbortUploadMutation } from '../../../../../../graphql/operations/datasets';
import { CreateDatasetMutation, CreateUploadMutation } from '../../../../../../graphql/operations/uploads';
import { clearErrorOnEdit, toFieldErrors, type FieldErrors } from '../../../../../../lib/form-errors';
import { request } from '../../../../../../lib/graphql';
import type { PickedFile } from '../../../../../../lib/upload/pick-files';
import { contentTypeOf, planParts } from '../../../../../../lib/upload/plan';
import { fetchUploadState, missingPartTargets, storedBytesByFile } from '../../../../../../lib/upload/resume';
import {
  clearPending,
  fingerprintOf,
  loadPending,
  savePending,
  type PendingUpload,
} from '../../../../../../lib/upload/resume-store';
import type { PartTarget } from '../../../../../../lib/upload/send-parts';

const FIELDS = ['name', 'resolution', 'channels', 'files'] as const;
type Field = (typeof FIELDS)[number];
const RESOLUTIONS = [16, 28, 32, 64, 128, 256];

/**
 * The new-dataset page: an upload interrupted by a reload is offered for resuming first (localStorage
 * keeps it per team); otherwise the form to create a dataset and upload its images.
 */
export function NewDatasetForm({ teamId, teamSlug }: { teamId: string; teamSlug: string }) {
  // undefined until mounted: localStorage is not readable during server rendering.
  const [pending, setPending] = useState<PendingUpload | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => setPending(loadPending(teamId)), [teamId]);
  const onGone = useCallback((message: string) => {
    setNotice(message);
    setPending(null);
  }, []);
  if (pending === undefined) return null;
  if (pending) return <ResumeUpload teamId={teamId} teamSlug={teamSlug} pending={pending} onGone={onGone} />;
  return (
    <>
      {notice ? (
        <div className="alert" role="status" style={{ marginBottom: 12, background: 'var(--surface-2)' }}>
          {notice}
        </div>
      ) : null}
      <CreateDatasetForm teamId={teamId} teamSlug={teamSlug} />
    </>
  );
}

function CreateDatasetForm({ teamId, teamSlug }: { teamId: string; teamSlug: string }) {
  const router = useRouter();
  const [picked, setPicked] = useState<PickedFile[]>([]);
  const [errors, setErrors] = useState<FieldErrors<Field>>({});
  const [phase, setPhase] = useState<UploadPhase>({ kind: 'idle' });
  // After a failed attempt: what of it the hub has (the progress bars show it; "try again" sends the rest).
  const [stored, setStored] = useState<Map<number, number> | undefined>(undefined);
  // Kept across a failed upload, so "try again" does not create a second dataset (its fields are disabled
  // then, and disabled fields are not in the form data)…
  const dataset = useRef<{ id: string; name: string } | null>(null);
  // …and, with the same files, resumes the same upload instead of sending everything again.
  const upload = useRef<{ id: string; files: readonly PickedFile[] } | null>(null);
  const busy = phase.kind !== 'idle';

  function addFiles(files: PickedFile[]) {
    setPicked((current) => {
      const seen = new Set(current.map((p) => p.path));
      return [...current, ...files.filter((f) => !seen.has(f.path))];
    });
    setErrors((e) => ({ ...e, files: undefined }));
    setStored(undefined);
  }

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = dataset.current?.name ?? String(form.get('name') ?? '').trim();
    const local: FieldErrors<Field> = {};
    if (!name) local.name = 'Name the dataset, e.g. "faces-32"';
    if (picked.length === 0) local.files = 'Add some images: drop them here or choose files or a folder';
    setErrors(local);
    if (Object.keys(local).length > 0) return;

    setPhase({ kind: 'sending', sent: new Map(), total: 0, rate: 0, eta: null });
    try {
      if (!dataset.current) {
        const created = await request(CreateDatasetMutation, {
          input: {
            teamId,
            name,
            resolution: Number(form.get('resolution')),
            channels: Number(form.get('channels')),
            description: String(form.get('description') ?? '') || null,
          },
        });
        if (!created.ok) return fail(toFieldErrors(created.errors, FIELDS));
        dataset.current = { id: created.data.createDataset.id, name };
      }

      let uploadId: string;
      let parts: PartTarget[];
      let alreadyStored: Map<number, number> | undefined;
      const retry =
        upload.current && sameFiles(upload.current.files, picked) ? await resumable(upload.current.id) : null;
      if (retry) {
        ({ parts, stored: alreadyStored } = retry);
        uploadId = upload.current!.id;
      } else {
        // Other files than the failed attempt's: that upload will not be completed, so it is ended now.
        if (upload.current) void request(AbortUploadMutation, { uploadId: upload.current.id });
        const created = await request(CreateUploadMutation, {
          input: {
            datasetId: dataset.current.id,
            files: picked.map((p) => ({ path: p.path, size: p.file.size, contentType: contentTypeOf(p.file) })),
          },
        });
        // The server names the file and the limit it crosses; those errors belong to the file list.
        if (!created.ok)
          return fail(toFieldErrors(created.errors, FIELDS, { BAD_USER_INPUT: 'files', CONFLICT: 'files' }));
        uploadId = created.data.createUpload.id;
        upload.current = { id: uploadId, files: picked };
        parts = planParts(created.data.createUpload.files);
        savePending(teamId, {
          uploadId,
          datasetId: dataset.current.id,
          datasetName: dataset.current.name,
          savedAt: '',
          files: created.data.createUpload.files.map((f) => ({
            ...fingerprintOf(picked[f.index]!.file, picked[f.index]!.path),
            // A multipart file always has several parts (the threshold is at least the part size).
            partSize: f.parts.length > 1 ? f.parts[0]!.size : null,
            partCount: f.parts.length,
            partsDone: [],
          })),
        });
      }

      const completed = await sendAndComplete({
        teamId,
        uploadId,
        files: picked.map((p) => p.file),
        parts,
        stored: alreadyStored,
        onPhase: setPhase,
      });
      if (!completed.ok) return fail(toFieldErrors(completed.errors, FIELDS, { BAD_USER_INPUT: 'files' }));
      upload.current = null;
      router.push(`/t/${teamSlug}/datasets`);
      router.refresh();
    } catch (err) {
      fail({ files: err instanceof Error ? err.message : String(err) });
      const state = upload.current ? await fetchUploadState(upload.current.id) : null;
      if (state?.kind === 'open') setStored(storedBytesByFile(state.progress));
    }
  }

  function fail(next: FieldErrors<Field>) {
    setErrors(next);
    setPhase({ kind: 'idle' });
  }

  function clearFiles() {
    setPicked([]);
    setStored(undefined);
    // These files will not be sent: the failed attempt's upload is ended rather than kept for resuming.
    if (upload.current) {
      void request(AbortUploadMutation, { uploadId: upload.current.id });
      clearPending(teamId, upload.current.id);
      upload.current = null;
    }
  }

  return (
    <form className="card card-body form" onSubmit={onSubmit} onChange={clearErrorOnEdit(setErrors)} noValidate>
      {errors.form ? <FormError>{errors.form}</FormError> : null}
      <div className="form-row">
        <TextField
          label="Name"
          name="name"
          required
          maxLength={100}
          placeholder="faces-32"
          error={errors.name}
          disabled={busy || dataset.current !== null}
        />
        <SelectField
          label="Resolution"
          name="resolution"
          defaultValue="32"
          error={errors.resolution}
          disabled={busy || dataset.current !== null}
          options={RESOLUTIONS.map((r) => ({ value: String(r), label: `${r} × ${r} px` }))}
        />
        <SelectField
          label="Colour"
          name="channels"
          defaultValue="3"
          error={errors.channels}
          disabled={busy || dataset.current !== null}
          options={[
            { value: '3', label: 'RGB' },
            { value: '1', label: 'Grayscale' },
          ]}
        />
      </div>
      <TextField
        label="Description (optional)"
        name="description"
        maxLength={2000}
        disabled={busy || dataset.current !== null}
      />

      <div className="field">
        <span className="field-label" id="files-label">
          Images
        </span>
        <FileDrop
          labelledBy="files-label"
          errorId={errors.files ? 'files-error' : undefined}
          disabled={busy}
          onFiles={addFiles}
        />
        {errors.files ? <FieldError id="files-error">{errors.files}</FieldError> : null}
      </div>

      {picked.length > 0 ? (
        <UploadSummary
          files={picked.map((p) => ({ path: p.path, size: p.file.size }))}
          phase={phase}
          stored={stored}
          onClear={clearFiles}
        />
      ) : null}

      <div>
        <SubmitButton pending={busy} pendingLabel={phase.kind === 'completing' ? 'Finishing…' : 'Uploading…'}>
          {dataset.current
            ? 'Try the upload again'
            : `Upload ${picked.length > 0 ? `${picked.length} ` : ''}${picked.length === 1 ? 'image' : 'images'}`}
        </SubmitButton>
      </div>
    </form>
  );
}

function sameFiles(a: readonly PickedFile[], b: readonly PickedFile[]): boolean {
  return a.length === b.length && a.every((p, i) => p.file === b[i]!.file && p.path === b[i]!.path);
}

/** The missing parts of an earlier attempt's upload, or null when it cannot be resumed (a new one is made). */
async function resumable(uploadId: string): Promise<{ parts: PartTarget[]; stored: Map<number, number> } | null> {
  const state = await fetchUploadState(uploadId);
  if (state.kind !== 'open') return null;
  const targets = await missingPartTargets(uploadId, state.progress);
  return targets.ok ? { parts: targets.parts, stored: storedBytesByFile(state.progress) } : null;
}
