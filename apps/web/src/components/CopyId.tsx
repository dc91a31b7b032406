'use client';

import { CheckIcon, CopyIcon } from './Icons';
import { useClipboard } from './use-clipboard';

/**
 * An id shown in full with a Copy button: what the CLI and the API take (`dapple run start --dataset <id>`;
 * a unique prefix of it works in the CLI too).
 */
export function CopyId({ label, value }: { label: string; value: string }) {
  const { copied, copy } = useClipboard();
  return (
    <span className="copy-id">
      <span className="muted">{label}</span>{' '}
      <code className="mono" data-testid={`copy-id-${label.toLowerCase().replace(/\W+/g, '-')}`}>
        {value}
      </code>{' '}
      <button
        type="button"
        className="btn btn-ghost btn-sm"
        onClick={() => copy(value)}
        aria-label={`Copy ${label.toLowerCase()}`}
      >
        {copied ? <CheckIcon /> : <CopyIcon />}
        {copied ? 'Copied' : 'Copy'}
      </button>
    </span>
  );
}
