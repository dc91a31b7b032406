'use client';

import { useRouter } from 'next/navigation';
import { useId, useRef, useState } from 'react';
import { PublishModelMutation, TeamModelsQuery } from '../../graphql/operations/models';
import { request } from '../../lib/graphql';
import { FormError, SelectField, TextField } from '../Field';
import { SubmitButton } from '../SubmitButton';
import styles from './models.module.css';

const NEW = '__new__';

/**
 * “Publish” for one checkpoint of a run (for the run page's checkpoint list): as a new model or as the
 * next version of one of the team's models, with release notes; then opens the model's page.
 */
export function PublishCheckpointButton({ runId, step, teamId, teamSlug, defaultName }: { runId: string; step: number; teamId: string; teamSlug: string; defaultName: string }) {
  const router = useRouter();
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [models, setModels] = useState<{ id: string; name: string }[] | null>(null);
  const [target, setTarget] = useState(NEW);
  const [name, setName] = useState(defaultName);
  const [notes, setNotes] = useState('');
  const [errors, setErrors] = useState<{ name?: string; form?: string }>({});
  const [pending, setPending] = useState(false);

  async function open() {
    dialog.current?.showModal();
    if (models) return;
    const result = await request(TeamModelsQuery, { teamId, first: 100 });
    // Only the team's own models take new versions from its runs.
    setModels(result.ok ? result.data.models.filter((m) => m.teamId === teamId).map((m) => ({ id: m.id, name: m.name })) : []);
  }

  async function publish(event: React.FormEvent) {
    event.preventDefault();
    if (target === NEW && name.trim() === '') return setErrors({ name: 'Name the new model.' });
    setPending(true);
    const result = await request(PublishModelMutation, {
      input: { runId, step, notes: notes.trim() || null, ...(target === NEW ? { modelName: name.trim() } : { modelId: target }) },
    });
    setPending(false);
    if (!result.ok) {
      const error = result.errors[0];
      return setErrors(error?.field?.endsWith('modelName') ? { name: error.message } : { form: error?.message ?? 'Publishing failed' });
    }
    dialog.current?.close();
    router.push(`/t/${teamSlug}/models/${result.data.publishModel.model.id}`);
  }

  return (
    <>
      <button type="button" className="btn btn-secondary btn-sm" onClick={open}>
        Publish
      </button>
      <dialog ref={dialog} className={styles.dialog} aria-labelledby={titleId}>
        <form className={styles.dialogBody} onSubmit={publish} noValidate>
          <div className={styles.dialogHeader}>
            <h2 id={titleId}>Publish step {step.toLocaleString('en')}</h2>
            <button type="button" className="btn btn-ghost btn-sm" onClick={() => dialog.current?.close()}>
              Close
            </button>
          </div>
          <p className="muted">Its EMA weights become an immutable model version, with the run’s config, metrics and sample grid.</p>
          <SelectField
            label="Publish to"
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            options={[{ value: NEW, label: 'A new model' }, ...(models ?? []).map((m) => ({ value: m.id, label: `${m.name} (next version)` }))]}
          />
          {target === NEW ? (
            <TextField
              label="Model name"
              value={name}
              onChange={(e) => {
                setName(e.target.value);
                setErrors({});
              }}
              error={errors.name}
            />
          ) : null}
          <div className="field">
            <label htmlFor={`${titleId}-notes`}>Release notes (markdown)</label>
            <textarea id={`${titleId}-notes`} className="input" rows={4} value={notes} onChange={(e) => setNotes(e.target.value)} />
          </div>
          {errors.form ? <FormError>{errors.form}</FormError> : null}
          <SubmitButton pending={pending} pendingLabel="Publishing…">
            Publish
          </SubmitButton>
        </form>
      </dialog>
    </>
  );
}
