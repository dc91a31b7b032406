'use client';

import { useState } from 'react';
import { ExportModelVersionMutation } from '../../graphql/operations/models';
import { request } from '../../lib/graphql';
import { FieldError } from '../Field';
import { BusyButton } from '../BusyButton';

/** Asks the API for a fresh zip URL (weights, config, card) and starts the download. */
export function ExportButton({
  versionId,
  number,
  shareToken,
}: {
  versionId: string;
  number: number;
  shareToken?: string;
}) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function download() {
    setPending(true);
    setError(null);
    const result = await request(ExportModelVersionMutation, { id: versionId, shareToken: shareToken ?? null });
    setPending(false);
    if (!result.ok) {
      setError(result.errors[0]?.message ?? 'Export failed');
      return;
    }
    // A link click keeps the download in this tab (the URL is same-origin and answers as an attachment).
    const link = document.createElement('a');
    link.href = result.data.exportModelVersion.url;
    link.download = `model-v${number}.zip`;
    document.body.append(link);
    link.click();
    link.remove();
  }
  return (
    <span>
      <BusyButton busy={pending} onClick={() => void download()} size="sm">
        Export v{number}
      </BusyButton>
      {error ? <FieldError>{error}</FieldError> : null}
    </span>
  );
}
