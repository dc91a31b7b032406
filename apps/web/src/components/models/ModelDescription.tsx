'use client';

import { useRouter } from 'next/navigation';
import { useId, useState } from 'react';
import { UpdateModelMutation } from '../../graphql/operations/models';
import { request } from '../../lib/graphql';
import { FieldError } from '../Field';
import { Markdown } from './Markdown';
import styles from './models.module.css';
import { SubmitButton } from '../SubmitButton';

const MAX_LENGTH = 2000; // the API's limit

/**
 * The model's description, rendered as markdown (the same renderer as version cards: no raw HTML), with
 * an editor for those who may publish to the model. Version cards are immutable; this is the model's own text.
 */
export function ModelDescription({
  modelId,
  description,
  canEdit,
}: {
  modelId: string;
  description: string;
  canEdit: boolean;
}) {
  const router = useRouter();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(description);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  async function save(event: React.FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    const result = await request(UpdateModelMutation, { input: { id: modelId, description: draft.trim() } });
    setPending(false);
    if (!result.ok) return setError(result.errors[0]?.message ?? 'Could not save the description');
    setEditing(false);
    router.refresh();
  }

  if (!editing) {
    if (!description && !canEdit) return null;
    return (
      <div className={styles.description} data-testid="model-description">
        {description ? (
          <Markdown source={description} className={`${styles.card} ${styles.descriptionText}`} />
        ) : canEdit ? (
          <p className="muted">No description yet.</p>
        ) : null}
        {canEdit ? (
          <button
            type="button"
            className="btn btn-ghost btn-sm"
            onClick={() => {
              setDraft(description);
              setEditing(true);
            }}
          >
            Edit description
          </button>
        ) : null}
      </div>
    );
  }
  return (
    <form className={`form ${styles.descriptionForm}`} onSubmit={save} noValidate>
      <div className="field">
        <label htmlFor={`${id}-text`}>Description (markdown)</label>
        <textarea
          id={`${id}-text`}
          className={`input ${styles.descriptionInput}`}
          rows={6}
          value={draft}
          maxLength={MAX_LENGTH}
          autoFocus
          onChange={(e) => setDraft(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : `${id}-hint`}
        />
        <span id={`${id}-hint`} className="muted" style={{ fontSize: '0.82rem' }}>
          Headings, lists, **bold**, _italics_, `code` and links; {MAX_LENGTH - draft.length} characters left.
        </span>
        {error ? <FieldError id={`${id}-error`}>{error}</FieldError> : null}
      </div>
      {draft.trim() ? (
        <div className={styles.descriptionPreview} aria-label="Preview">
          <Markdown source={draft} className={styles.card} />
        </div>
      ) : null}
      <div className="form-row">
        <SubmitButton pending={pending} size="sm">
          Save description
        </SubmitButton>
        <button type="button" className="btn btn-secondary btn-sm" onClick={() => setEditing(false)} disabled={pending}>
          Cancel
        </button>
      </div>
    </form>
  );
}
