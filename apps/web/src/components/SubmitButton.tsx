/** A submit button that shows a spinner and its pending label while the form is being sent. */
export function SubmitButton({
  pending,
  children,
  pendingLabel,
  variant = 'primary',
  block = false,
  size,
}: {
  pending: boolean;
  children: React.ReactNode;
  pendingLabel?: string;
  variant?: 'primary' | 'secondary' | 'danger';
  block?: boolean;
  size?: 'sm';
}) {
  const className = ['btn', `btn-${variant}`, block ? 'btn-block' : '', size ? `btn-${size}` : ''].filter(Boolean).join(' ');
  return (
    <button type="submit" className={className} disabled={pending} aria-busy={pending || undefined}>
      {pending ? <span className="spinner" aria-hidden="true" /> : null}
      {pending && pendingLabel ? pendingLabel : children}
    </button>
  );
}
