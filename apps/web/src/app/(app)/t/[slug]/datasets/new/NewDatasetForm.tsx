'use client';

import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ResumeUpload } from '../../../../../../components/datasets/ResumeUpload';
import { FileDrop } from '../../../../../../components/datasets/FileDrop';
import { sendAndComplete, type UploadPhase } from '../../../../../../components/datasets/send-upload';
import { UploadSummary } from '../../../../../../components/datasets/UploadSummary';
import { FieldError, FormError, SelectField, TextField } from '../../../../../../components/Field';
import { SubmitButton } from '../../../../../../components/SubmitButton';
import { AbortUploadMutation } from '../../../../../../graphql/operations/uploads';
import { CreateUploadMutation } from '../../../../../../graphql/operations/uploads';
import { clearErrorOnEdit, toFieldErrors, type FieldErrors } from '../../../../../../lib/form-errors';
import { request } from '../../../../../../lib/graphql';
import type { PickedFile } from '../../../../../../lib/upload/pick-files';
import {
  declareItems,
  describeItem,
  prefetch,
  prepareUpload,
  type PreparedUpload,
} from '../../../../../../lib/upload/items';
import { planParts } from '../../../../../../lib/upload/plan';
import { fetchUploadState, missingPartTargets, storedBytesByFile } from '../../../../../../lib/upload/resume';
import { describePicked } from '../../../../../../lib/upload/describe-picked';
import {
  clearPending,
  fingerprintOf,
  loadPending,
  savePending,
  type PendingUpload,
} from '../../../../../../lib/upload/resume-store';
import type { PartTarget } from '../../../../../../lib/upload/send-parts';
import { formText } from '../../../../../../lib/form-text';

const FIELDS = ['name', 'resolution', 'channels', 'files'] as const;
type Field = (typeof FIELDS)[number];
const RESOLUTIONS = [16, 28, 32, 64, 128, 256];

/** An existing dataset the upload adds a version to (the dataset page's "Upload a new version"). */
export interface ExistingDataset {
  id: string;
  name: string;
}

/** Where the files go: the team, and the dataset they become a new version of (none: a new dataset). */
interface UploadFormProps {
  teamId: string;
  teamSlug: string;
  existing?: ExistingDataset;
}

/**
 * The new-dataset page (and a dataset's upload page, with `existing`): an upload interrupted by a reload is
 * offered for resuming first (localStorage keeps it per team); otherwise the form to create a dataset (or pick
 * files for the existing one) and upload them.
 */
export function NewDatasetForm({ teamId, teamSlug, existing }: UploadFormProps) {
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
      <CreateDatasetForm teamId={teamId} teamSlug={teamSlug} existing={existing} />
    </>
  );
}

function CreateDatasetForm({ teamId, teamSlug, existing }: UploadFormProps) {
  const router = useRouter();
  const [picked, setPicked] = useState<PickedFile[]>([]);
  const [errors, setErrors] = useState<FieldErrors<Field>>({});
  const [phase, setPhase] = useState<UploadPhase>({ kind: 'idle' });
  // After a failed attempt: what of it the hub has (the progress bars show it; "try again" sends the rest).
  const [stored, setStored] = useState<Map<number, number> | undefined>(undefined);
  // Kept across a failed upload, so "try again" does not create a second dataset (its fields are disabled
  // then, and disabled fields are not in the form data)…
  const dataset = useRef<{ id: string; name: string } | null>(existing ?? null);
  // …and, with the same files, resumes the same upload instead of sending everything again.
  const upload = useRef<{ id: string; files: readonly PickedFile[]; prepared: PreparedUpload } | null>(null);
  const [attempted, setAttempted] = useState(false);
  const busy = phase.kind !== 'idle';
  const prepared = useMemo(() => prepareUpload(picked), [picked]);
  // Small files are read while the user finishes the form and while the upload is created (see read-ahead.ts).
  useEffect(() => prefetch(prepared), [prepared]);

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
    const name = dataset.current?.name ?? formText(form, 'name').trim();
    const local: FieldErrors<Field> = {};
    if (!name) local.name = 'Name the dataset, e.g. "faces-32"';
    if (picked.length === 0) local.files = 'Add some images: drop them here or choose files or a folder';
    setErrors(local);
    if (Object.keys(local).length > 0) return;

    setPhase({ kind: 'sending', sent: new Map(), total: 0, rate: 0, eta: null });
    setAttempted(true);
    try {
      let uploadId: string;
      let parts: PartTarget[];
      let alreadyStored: Map<number, number> | undefined;
      let sending = prepared;
      const retry =
        upload.current && sameFiles(upload.current.files, picked) ? await resumable(upload.current.id) : null;
      if (retry) {
        ({ parts, stored: alreadyStored } = retry);
        uploadId = upload.current!.id;
        sending = upload.current!.prepared;
      } else {
        // Other files than the failed attempt's: that upload will not be completed, so it is ended now.
        if (upload.current) void request(AbortUploadMutation, { uploadId: upload.current.id });
        // A new dataset is created with its upload, in one request (and not at all when the upload is refused).
        const created = await request(CreateUploadMutation, {
          input: {
            ...(dataset.current
              ? { datasetId: dataset.current.id }
              : {
                  dataset: {
                    teamId,
                    name,
                    resolution: Number(form.get('resolution')),
                    channels: Number(form.get('channels')),
                    description: formText(form, 'description') || null,
                  },
                }),
            files: declareItems(prepared, picked),
          },
        });
        // The server names the field (dataset.name, files.3.size…); errors about the files belong to the file list.
        if (!created.ok)
          return fail(toFieldErrors(created.errors, FIELDS, { BAD_USER_INPUT: 'files', CONFLICT: 'files' }));
        dataset.current ??= { id: created.data.createUpload.datasetId, name };
        uploadId = created.data.createUpload.id;
        upload.current = { id: uploadId, files: picked, prepared };
        parts = planParts(created.data.createUpload.files);
        savePending(teamId, {
          uploadId,
          datasetId: dataset.current.id,
          datasetName: dataset.current.name,
          savedAt: '',
          sources: picked.map((p) => fingerprintOf(p.file, p.path)),
          files: created.data.createUpload.files.map((f) => ({
            ...fingerprintOf(prepared.blobs[f.index]!, f.path),
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
        prepared: sending,
        parts,
        stored: alreadyStored,
        onPhase: setPhase,
      });
      if (!completed.ok) return fail(toFieldErrors(completed.errors, FIELDS, { BAD_USER_INPUT: 'files' }));
      upload.current = null;
      router.push(existing ? `/t/${teamSlug}/datasets/${existing.id}` : `/t/${teamSlug}/datasets`);
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
      {existing ? null : <DatasetFields errors={errors} disabled={busy || dataset.current !== null} />}

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
          files={prepared.items.map((item) => ({ path: describeItem(item), size: item.size }))}
          fileCount={prepared.sourceCount}
          phase={phase}
          stored={stored}
          onClear={clearFiles}
        />
      ) : null}

      <div>
        <SubmitButton pending={busy} pendingLabel={phase.kind === 'completing' ? 'Finishing…' : 'Uploading…'}>
          {attempted && upload.current ? 'Try the upload again' : `Upload ${describePicked(picked)}`}
        </SubmitButton>
      </div>
    </form>
  );
}

function DatasetFields({ errors, disabled }: { errors: FieldErrors<Field>; disabled: boolean }) {
  return (
    <>
      <div className="form-row">
        <TextField
          label="Name"
          name="name"
          required
          maxLength={100}
          placeholder="faces-32"
          error={errors.name}
          disabled={disabled}
        />
        <SelectField
          label="Resolution"
          name="resolution"
          defaultValue="32"
          error={errors.resolution}
          disabled={disabled}
          options={RESOLUTIONS.map((r) => ({ value: String(r), label: `${r} × ${r} px` }))}
        />
        <SelectField
          label="Colour"
          name="channels"
          defaultValue="3"
          error={errors.channels}
          disabled={disabled}
          options={[
            { value: '3', label: 'RGB' },
            { value: '1', label: 'Grayscale' },
          ]}
        />
      </div>
      <TextField label="Description (optional)" name="description" maxLength={2000} disabled={disabled} />
    </>
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
