/**
 * A button that starts an action (not a form's submit: that is SubmitButton): while `busy` it shows a spinner, says
 * so to assistive technology (aria-busy) and cannot be pressed again. `disabled` adds other reasons not to press it
 * (another action of the same place running).
 */
export function BusyButton({
  busy,
  disabled = false,
  onClick,
  variant = 'secondary',
  size,
  autoFocus,
  testId,
  children,
}: {
  busy: boolean;
  disabled?: boolean;
  onClick: () => void;
  variant?: 'primary' | 'secondary' | 'danger' | 'ghost';
  size?: 'sm';
  autoFocus?: boolean;
  testId?: string;
  children: React.ReactNode;
}) {
  return (
    <button
      type="button"
      className={['btn', `btn-${variant}`, size ? `btn-${size}` : ''].filter(Boolean).join(' ')}
      onClick={onClick}
      disabled={busy || disabled}
      aria-busy={busy || undefined}
      autoFocus={autoFocus}
      data-testid={testId}
    >
      {busy ? <span className="spinner" aria-hidden="true" /> : null}
      {children}
    </button>
  );
}
