'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { DeleteModelVersionMutation } from '../../graphql/operations/models';
import { request } from '../../lib/graphql';
import { FieldError } from '../Field';
import { BusyButton } from '../BusyButton';

/** Deletes a version after a second, explicit confirmation (its weights and images are removed for good). */
export function DeleteVersionButton({ versionId, number }: { versionId: string; number: number }) {
  const router = useRouter();
  const [confirming, setConfirming] = useState(false);
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function remove() {
    setPending(true);
    setError(null);
    const result = await request(DeleteModelVersionMutation, { id: versionId });
    setPending(false);
    if (!result.ok) {
      setError(result.errors[0]?.message ?? 'Delete failed');
      return;
    }
    setConfirming(false);
    router.refresh();
  }
  if (!confirming) {
    return (
      <button type="button" className="btn btn-ghost btn-sm" onClick={() => setConfirming(true)}>
        Delete
      </button>
    );
  }
  return (
    <span
      role="group"
      aria-label={`Confirm deleting version ${number}`}
      style={{ display: 'inline-flex', gap: 6, flexWrap: 'wrap', alignItems: 'center' }}
    >
      <span className="muted">Delete v{number} and its files?</span>
      <BusyButton busy={pending} onClick={() => void remove()} variant="danger" size="sm" autoFocus>
        Delete version {number}
      </BusyButton>
      <button
        type="button"
        className="btn btn-secondary btn-sm"
        onClick={() => setConfirming(false)}
        disabled={pending}
      >
        Keep
      </button>
      {error ? <FieldError>{error}</FieldError> : null}
    </span>
  );
}
