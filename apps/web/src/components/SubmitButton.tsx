'use client';

import { useSyncExternalStore } from 'react';

const subscribeNever = () => () => {};

/**
 * True once React has hydrated this page. Before that, a click on a submit button would make the browser send the
 * form natively (a GET with every field — passwords included — in the URL), because our forms submit from JavaScript.
 */
function useHydrated(): boolean {
  return useSyncExternalStore(
    subscribeNever,
    () => true,
    () => false,
  );
}

/**
 * A submit button that shows a spinner and its pending label while the form is being sent. Every form's submit
 * button is one: it stays disabled until the page has hydrated (see useHydrated), and `disabled` adds the form's own
 * reason (e.g. an unticked confirmation).
 */
export function SubmitButton({
  pending,
  children,
  pendingLabel,
  variant = 'primary',
  block = false,
  size,
  disabled = false,
}: {
  pending: boolean;
  children: React.ReactNode;
  pendingLabel?: string;
  variant?: 'primary' | 'secondary' | 'danger';
  block?: boolean;
  size?: 'sm';
  disabled?: boolean;
}) {
  const hydrated = useHydrated();
  const className = ['btn', `btn-${variant}`, block ? 'btn-block' : '', size ? `btn-${size}` : '']
    .filter(Boolean)
    .join(' ');
  return (
    <button
      type="submit"
      className={className}
      disabled={pending || disabled || !hydrated}
      aria-busy={pending || undefined}
    >
      {pending ? <span className="spinner" aria-hidden="true" /> : null}
      {pending && pendingLabel ? pendingLabel : children}
    </button>
  );
}
