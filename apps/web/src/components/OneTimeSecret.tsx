import { CopyField } from './CopyField';

/** A value the hub shows only once (a new token, an invite link): copy it now, with what to do with it. */
export function OneTimeSecret({
  title,
  label,
  value,
  hint,
  children,
}: {
  title: React.ReactNode;
  label: string;
  value: string;
  hint: string;
  /** More on how to use it (e.g. an example request). */
  children?: React.ReactNode;
}) {
  return (
    <div className="secret" role="status">
      <strong>{title}</strong>
      <CopyField label={label} value={value} />
      <p className="field-hint">{hint}</p>
      {children}
    </div>
  );
}
