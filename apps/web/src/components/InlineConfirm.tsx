'use client';

import { useState } from 'react';

/**
 * A small ghost button (`label`) that turns into a second, explicit choice in place: the danger button
 * (`confirmLabel`) and a way back (`cancelLabel`). `onConfirm` resolves to true when the choice is over (the
 * confirmation closes), false while the page moves on (the confirmation stays, spinning, until it is gone).
 */
export function InlineConfirm({
  label,
  confirmLabel,
  cancelLabel = 'Cancel',
  busy,
  disabled = false,
  onConfirm,
}: {
  label: string;
  confirmLabel: string;
  cancelLabel?: string;
  /** The action is running: both buttons wait, the danger one with a spinner. */
  busy: boolean;
  /** The first button too waits (e.g. while another action on the same row runs). */
  disabled?: boolean;
  onConfirm: () => Promise<boolean>;
}) {
  const [confirming, setConfirming] = useState(false);
  if (!confirming) {
    return (
      <button type="button" className="btn btn-ghost btn-sm" onClick={() => setConfirming(true)} disabled={disabled}>
        {label}
      </button>
    );
  }
  return (
    <>
      <button
        type="button"
        className="btn btn-danger btn-sm"
        onClick={async () => {
          if (await onConfirm()) setConfirming(false);
        }}
        disabled={busy}
      >
        {busy ? <span className="spinner" aria-hidden="true" /> : null}
        {confirmLabel}
      </button>
      <button type="button" className="btn btn-ghost btn-sm" onClick={() => setConfirming(false)} disabled={busy}>
        {cancelLabel}
      </button>
    </>
  );
}
