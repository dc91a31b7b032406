'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { CancelRunMutation } from '../graphql/operations/runs';
import { request } from '../lib/graphql';
import { InlineConfirm } from './InlineConfirm';

/** Cancels a queued or running run (the trainer checkpoints and stops), with an inline confirmation. */
export function CancelRunButton({ runId, runName }: { runId: string; runName: string }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function cancel() {
    setBusy(true);
    const result = await request(CancelRunMutation, { id: runId });
    setBusy(false);
    if (!result.ok) setError(result.errors[0]?.message ?? 'Could not cancel the run');
    else router.refresh();
    return true;
  }

  if (error) {
    return (
      <span className="field-error" role="alert">
        {error}
      </span>
    );
  }
  return (
    <InlineConfirm
      label="Cancel"
      confirmLabel={`Cancel “${runName}”`}
      cancelLabel="Keep running"
      busy={busy}
      onConfirm={cancel}
    />
  );
}
