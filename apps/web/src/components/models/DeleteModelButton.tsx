'use client';

import { useRouter } from 'next/navigation';
import { useId, useRef, useState } from 'react';
import { DeleteModelMutation } from '../../graphql/operations/models';
import { request } from '../../lib/graphql';
import { FieldError } from '../Field';
import styles from './models.module.css';
import { SubmitButton } from '../SubmitButton';

/**
 * Deletes the whole model (every version, alias, share and link, and their files) after the person types its
 * name: one click cannot do it. Shown only to those who may delete (team admins); the API checks anyway.
 */
export function DeleteModelButton({
  modelId,
  modelName,
  versionCount,
  galleryHref,
}: {
  modelId: string;
  modelName: string;
  versionCount: number;
  galleryHref: string;
}) {
  const router = useRouter();
  const dialog = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const confirmed = typed === modelName;

  async function remove(event: React.FormEvent) {
    event.preventDefault();
    if (!confirmed) return;
    setPending(true);
    setError(null);
    const result = await request(DeleteModelMutation, { id: modelId });
    if (!result.ok) {
      setPending(false);
      return setError(result.errors[0]?.message ?? 'Could not delete the model');
    }
    router.push(galleryHref);
    router.refresh();
  }

  return (
    <>
      <button
        type="button"
        className={`btn btn-ghost ${styles.dangerText}`}
        onClick={() => {
          setTyped('');
          setError(null);
          dialog.current?.showModal();
        }}
      >
        Delete model
      </button>
      <dialog ref={dialog} className={styles.dialog} aria-labelledby={`${id}-title`}>
        <form className={`form ${styles.dialogBody}`} onSubmit={remove} noValidate>
          <div className={styles.dialogHeader}>
            <h2 id={`${id}-title`}>Delete {modelName}?</h2>
          </div>
          <p>
            This deletes {versionCount === 1 ? 'its version' : `all ${versionCount} versions`} with their weights,
            sample grids and exports, and every alias, share and share link. It cannot be undone.
          </p>
          <div className="field">
            <label htmlFor={`${id}-name`}>
              Type <strong className="mono">{modelName}</strong> to confirm
            </label>
            <input
              id={`${id}-name`}
              className="input"
              value={typed}
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => setTyped(e.target.value)}
              aria-describedby={error ? `${id}-error` : undefined}
            />
            {error ? <FieldError id={`${id}-error`}>{error}</FieldError> : null}
          </div>
          <div className="form-row">
            <SubmitButton pending={pending} variant="danger" disabled={!confirmed}>
              Delete this model
            </SubmitButton>
            <button
              type="button"
              className="btn btn-secondary"
              onClick={() => dialog.current?.close()}
              disabled={pending}
            >
              Keep it
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
