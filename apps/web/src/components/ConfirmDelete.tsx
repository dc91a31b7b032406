'use client';

import { useState, type ReactNode } from 'react';
import { FieldError } from './Field';
import { BusyButton } from './BusyButton';

export type DeletePreview = { ok: true; frees: ReactNode; blockedBy?: ReactNode } | { ok: false; message: string };

/**
 * A Delete button that first says what deleting frees (asked from the API when clicked), then needs an explicit
 * second click. `blockedBy` (e.g. published model versions) shows why it cannot be deleted and hides the confirm.
 */
export function ConfirmDelete({
  what,
  buttonLabel = 'Delete',
  preview,
  remove,
  onDeleted,
  testId,
}: {
  /** "run tiny-1", "version 2": goes into the question and the confirm button. */
  what: string;
  buttonLabel?: string;
  preview: () => Promise<DeletePreview>;
  /** Deletes; resolves to an error message, or null when done. */
  remove: () => Promise<string | null>;
  onDeleted: () => void;
  testId?: string;
}) {
  const [state, setState] = useState<'idle' | 'loading' | 'confirming' | 'deleting'>('idle');
  const [shown, setShown] = useState<DeletePreview | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function open() {
    setState('loading');
    setError(null);
    const p = await preview();
    setShown(p);
    setState('confirming');
  }

  async function confirm() {
    setState('deleting');
    const failed = await remove();
    if (failed) {
      setError(failed);
      setState('confirming');
    } else {
      setState('idle');
      onDeleted();
    }
  }

  if (state === 'idle' || state === 'loading') {
    return (
      <BusyButton busy={state === 'loading'} onClick={() => void open()} variant="ghost" size="sm" testId={testId}>
        {buttonLabel}
      </BusyButton>
    );
  }
  const blocked = shown?.ok ? shown.blockedBy : undefined;
  return (
    <div
      role="group"
      aria-label={`Confirm deleting ${what}`}
      className="confirm-delete"
      data-testid={testId && `${testId}-confirm`}
    >
      {shown && !shown.ok ? <FieldError>{shown.message}</FieldError> : null}
      {shown?.ok ? (
        <p className="muted" data-testid="delete-frees">
          Deleting {what} frees {shown.frees}. This cannot be undone.
        </p>
      ) : null}
      {blocked ? <FieldError>{blocked}</FieldError> : null}
      <span style={{ display: 'inline-flex', gap: 6, flexWrap: 'wrap' }}>
        {shown?.ok && !blocked ? (
          <BusyButton busy={state === 'deleting'} onClick={() => void confirm()} variant="danger" size="sm" autoFocus>
            Delete {what}
          </BusyButton>
        ) : null}
        <button
          type="button"
          className="btn btn-secondary btn-sm"
          onClick={() => setState('idle')}
          disabled={state === 'deleting'}
        >
          Keep
        </button>
      </span>
      {error ? <FieldError>{error}</FieldError> : null}
    </div>
  );
}
