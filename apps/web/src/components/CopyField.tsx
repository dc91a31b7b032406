'use client';

import { useId, useRef } from 'react';
import { CheckIcon, CopyIcon } from './Icons';
import { useClipboard } from './use-clipboard';

/** A read-only value (a secret or a link) with a Copy button; falls back to selecting the text. */
export function CopyField({ label, value }: { label: string; value: string }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const { copied, copy: copyText } = useClipboard();

  async function copy() {
    // Selected first: where the clipboard is denied, the text is ready for Ctrl+C.
    input.current?.select();
    await copyText(value);
  }

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="secret-row">
        <input id={id} ref={input} className="input" readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="btn btn-secondary" onClick={copy}>
          {copied ? <CheckIcon /> : <CopyIcon />}
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}
