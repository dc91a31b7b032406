'use client';

import { useRouter } from 'next/navigation';
import { useRef, useState } from 'react';
import { FieldError, FormError, SelectField, TextField } from '../../../../../../components/Field';
import { UploadIcon } from '../../../../../../components/Icons';
import { SubmitButton } from '../../../../../../components/SubmitButton';
import { CompleteUploadMutation, CreateDatasetMutation, CreateUploadMutation } from '../../../../../../graphql/operations/uploads';
import { clearErrorOnEdit, toFieldErrors, type FieldErrors } from '../../../../../../lib/form-errors';
import { request } from '../../../../../../lib/graphql';
import { fromDrop, fromInput, type PickedFile } from '../../../../../../lib/upload/pick-files';
import { contentTypeOf, planParts } from '../../../../../../lib/upload/plan';
import { formatBytes, formatDuration, RateMeter } from '../../../../../../lib/upload/rate';
import { sendParts } from '../../../../../../lib/upload/send-parts';

const FIELDS = ['name', 'resolution', 'channels', 'files'] as const;
type Field = (typeof FIELDS)[number];
const RESOLUTIONS = [16, 28, 32, 64, 128, 256];
const LISTED_FILES = 50;

type Phase = { kind: 'idle' } | { kind: 'sending'; sent: Map<number, number>; total: number; rate: number; eta: number | null } | { kind: 'completing' };

export function NewDatasetForm({ teamId, teamSlug }: { teamId: string; teamSlug: string }) {
  const router = useRouter();
  const [picked, setPicked] = useState<PickedFile[]>([]);
  const [errors, setErrors] = useState<FieldErrors<Field>>({});
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  const [dragging, setDragging] = useState(false);
  // Kept across a failed upload, so "try again" does not create a second dataset.
  const datasetId = useRef<string | null>(null);
  const busy = phase.kind !== 'idle';
  const totalBytes = picked.reduce((sum, p) => sum + p.file.size, 0);

  function addFiles(files: PickedFile[]) {
    setPicked((current) => {
      const seen = new Set(current.map((p) => p.path));
      return [...current, ...files.filter((f) => !seen.has(f.path))];
    });
    setErrors((e) => ({ ...e, files: undefined }));
  }

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = String(form.get('name') ?? '').trim();
    const local: FieldErrors<Field> = {};
    if (!name) local.name = 'Name the dataset, e.g. "faces-32"';
    if (picked.length === 0) local.files = 'Add some images: drop them here or choose files or a folder';
    setErrors(local);
    if (Object.keys(local).length > 0) return;

    setPhase({ kind: 'sending', sent: new Map(), total: 0, rate: 0, eta: null });
    try {
      if (!datasetId.current) {
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
        datasetId.current = created.data.createDataset.id;
      }
      const upload = await request(CreateUploadMutation, {
        input: { datasetId: datasetId.current, files: picked.map((p) => ({ path: p.path, size: p.file.size, contentType: contentTypeOf(p.file) })) },
      });
      // The server names the file and the limit it crosses; those errors belong to the file list.
      if (!upload.ok) return fail(toFieldErrors(upload.errors, FIELDS, { BAD_USER_INPUT: 'files', CONFLICT: 'files' }));

      const meter = new RateMeter();
      await sendParts(
        picked.map((p) => p.file),
        planParts(upload.data.createUpload.files),
        ({ sentByFile, sentTotal }) => {
          meter.sample(sentTotal, performance.now());
          setPhase({ kind: 'sending', sent: sentByFile, total: sentTotal, rate: meter.bytesPerSecond(), eta: meter.secondsLeft(totalBytes - sentTotal) });
        },
      );

      setPhase({ kind: 'completing' });
      const completed = await request(CompleteUploadMutation, { uploadId: upload.data.createUpload.id });
      if (!completed.ok) return fail(toFieldErrors(completed.errors, FIELDS, { BAD_USER_INPUT: 'files' }));
      router.push(`/t/${teamSlug}/datasets`);
      router.refresh();
    } catch (err) {
      fail({ files: err instanceof Error ? err.message : String(err) });
    }
  }

  function fail(next: FieldErrors<Field>) {
    setErrors(next);
    setPhase({ kind: 'idle' });
  }

  const sentTotal = phase.kind === 'sending' ? phase.total : phase.kind === 'completing' ? totalBytes : 0;
  return (
    <form className="card card-body form" onSubmit={onSubmit} onChange={clearErrorOnEdit(setErrors)} noValidate>
      {errors.form ? <FormError>{errors.form}</FormError> : null}
      <div className="form-row">
        <TextField label="Name" name="name" required maxLength={100} placeholder="faces-32" error={errors.name} disabled={busy || datasetId.current !== null} />
        <SelectField
          label="Resolution"
          name="resolution"
          defaultValue="32"
          error={errors.resolution}
          disabled={busy || datasetId.current !== null}
          options={RESOLUTIONS.map((r) => ({ value: String(r), label: `${r} × ${r} px` }))}
        />
        <SelectField
          label="Colour"
          name="channels"
          defaultValue="3"
          error={errors.channels}
          disabled={busy || datasetId.current !== null}
          options={[
            { value: '3', label: 'RGB' },
            { value: '1', label: 'Grayscale' },
          ]}
        />
      </div>
      <TextField label="Description (optional)" name="description" maxLength={2000} disabled={busy || datasetId.current !== null} />

      <div className="field">
        <span className="field-label" id="files-label">
          Images
        </span>
        <div
          className={`dropzone${dragging ? ' dropzone-active' : ''}${errors.files ? ' dropzone-invalid' : ''}`}
          aria-labelledby="files-label"
          aria-describedby={errors.files ? 'files-error' : undefined}
          role="group"
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={async (e) => {
            e.preventDefault();
            setDragging(false);
            if (!busy) addFiles(await fromDrop(e.dataTransfer.items));
          }}
        >
          <span className="empty-icon">
            <UploadIcon size={22} />
          </span>
          <p>
            <strong>Drop images or a folder here</strong>
            <br />
            <span className="muted">PNG, JPEG, WebP or GIF; sub-folders become class labels</span>
          </p>
          <div className="form-row" style={{ justifyContent: 'center' }}>
            <label className="btn btn-secondary btn-sm">
              Choose files
              <input
                type="file"
                multiple
                accept="image/*"
                className="visually-hidden"
                disabled={busy}
                data-testid="choose-files"
                onChange={(e) => e.currentTarget.files && addFiles(fromInput(e.currentTarget.files))}
              />
            </label>
            <label className="btn btn-secondary btn-sm">
              Choose a folder
              <input
                type="file"
                multiple
                className="visually-hidden"
                disabled={busy}
                ref={(el) => el?.setAttribute('webkitdirectory', '')}
                onChange={(e) => e.currentTarget.files && addFiles(fromInput(e.currentTarget.files))}
              />
            </label>
          </div>
        </div>
        {errors.files ? <FieldError id="files-error">{errors.files}</FieldError> : null}
      </div>

      {picked.length > 0 ? (
        <div className="upload-summary" aria-live="polite">
          <div className="upload-total">
            <div>
              <strong>
                {picked.length} {picked.length === 1 ? 'file' : 'files'}
              </strong>{' '}
              · {formatBytes(totalBytes)}
              {phase.kind === 'sending' && phase.rate > 0
                ? ` · ${formatBytes(phase.rate)}/s${phase.eta !== null ? ` · ${formatDuration(phase.eta)} left` : ''}`
                : phase.kind === 'completing'
                  ? ' · checking the upload…'
                  : ''}
            </div>
            {!busy ? (
              <button type="button" className="btn btn-ghost btn-sm" onClick={() => setPicked([])}>
                Clear
              </button>
            ) : null}
          </div>
          <Progress label="Total upload progress" value={totalBytes > 0 ? sentTotal / totalBytes : 0} />
          <ul className="list upload-files">
            {picked.slice(0, LISTED_FILES).map((p, index) => {
              const sent = phase.kind === 'sending' ? (phase.sent.get(index) ?? 0) : phase.kind === 'completing' ? p.file.size : 0;
              return (
                <li key={p.path} className="upload-file">
                  <span className="mono upload-path">{p.path}</span>
                  <span className="muted">{formatBytes(p.file.size)}</span>
                  <Progress label={`${p.path} upload progress`} value={p.file.size > 0 ? sent / p.file.size : 1} small />
                </li>
              );
            })}
          </ul>
          {picked.length > LISTED_FILES ? <p className="muted">and {picked.length - LISTED_FILES} more</p> : null}
        </div>
      ) : null}

      <div>
        <SubmitButton pending={busy} pendingLabel={phase.kind === 'completing' ? 'Finishing…' : 'Uploading…'}>
          {datasetId.current ? 'Try the upload again' : `Upload ${picked.length > 0 ? `${picked.length} ` : ''}${picked.length === 1 ? 'image' : 'images'}`}
        </SubmitButton>
      </div>
    </form>
  );
}

function Progress({ label, value, small }: { label: string; value: number; small?: boolean }) {
  const percent = Math.round(Math.min(1, Math.max(0, value)) * 100);
  return (
    <div className={`progress${small ? ' progress-sm' : ''}`} role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
      <span style={{ width: `${percent}%` }} />
    </div>
  );
}
