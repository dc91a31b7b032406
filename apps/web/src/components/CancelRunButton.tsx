'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { CancelRunMutation } from '../graphql/operations/runs';
import { request } from '../lib/graphql';

/** Cancels a queued or running run (the trainer checkpoints and stops), with an inline confirmation. */
export function CancelRunButton({ runId, runName }: { runId: string; runName: string }) {
  const router = useRouter();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function cancel() {
    setBusy(true);
    const result = await request(CancelRunMutation, { id: runId });
    setBusy(false);
    setConfirming(false);
    if (!result.ok) {
      setError(result.errors[0]?.message ?? 'Could not cancel the run');
      return;
    }
    router.refresh();
  }

  if (error) {
    return (
      <span className="field-error" role="alert">
        {error}
      </span>
    );
  }
  return confirming ? (
    <>
      <button type="button" className="btn btn-danger btn-sm" onClick={cancel} disabled={busy}>
        {busy ? <span className="spinner" aria-hidden="true" /> : null}
        Cancel “{runName}”
      </button>
      <button type="button" className="btn btn-ghost btn-sm" onClick={() => setConfirming(false)} disabled={busy}>
        Keep running
      </button>
    </>
  ) : (
    <button type="button" className="btn btn-ghost btn-sm" onClick={() => setConfirming(true)}>
      Cancel
    </button>
  );
}
