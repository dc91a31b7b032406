'use client';

import { useId } from 'react';
import { AlertIcon } from './Icons';

type InputProps = Omit<React.InputHTMLAttributes<HTMLInputElement>, 'id' | 'className'>;

/**
 * A labelled input with its hint and error underneath. The error is announced (role=alert) and tied
 * to the input with aria-describedby / aria-invalid, so screen readers read it with the field.
 */
export function TextField({
  label,
  error,
  hint,
  prefix,
  ...input
}: InputProps & { label: string; error?: string | undefined; hint?: React.ReactNode; prefix?: string }) {
  const { id, describedBy, notes } = useFieldNotes(error, hint);
  const control = (
    <input
      id={id}
      className="input"
      aria-invalid={error ? true : undefined}
      aria-describedby={describedBy}
      {...input}
    />
  );
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {prefix ? (
        <div className="input-prefix">
          <span>{prefix}</span>
          {control}
        </div>
      ) : (
        control
      )}
      {notes}
    </div>
  );
}

export function SelectField({
  label,
  error,
  hint,
  options,
  ...select
}: Omit<React.SelectHTMLAttributes<HTMLSelectElement>, 'id' | 'className'> & {
  label: string;
  error?: string | undefined;
  hint?: React.ReactNode;
  options: readonly { value: string; label: string }[];
}) {
  const { id, describedBy, notes } = useFieldNotes(error, hint);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        className="select"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        {...select}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {notes}
    </div>
  );
}

/**
 * A field's id, and its error and hint under it, tied to the control with aria-describedby so screen readers read
 * them with the field.
 */
function useFieldNotes(error: string | undefined, hint: React.ReactNode) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [error ? errorId : null, hint ? hintId : null].filter(Boolean).join(' ') || undefined;
  const notes = (
    <>
      {error ? <FieldError id={errorId}>{error}</FieldError> : null}
      {hint ? (
        <p id={hintId} className="field-hint">
          {hint}
        </p>
      ) : null}
    </>
  );
  return { id, describedBy, notes };
}

export function FieldError({ id, children }: { id?: string; children: React.ReactNode }) {
  return (
    <p id={id} className="field-error" role="alert">
      <AlertIcon size={15} />
      <span>{children}</span>
    </p>
  );
}

export function FormError({ children }: { children: React.ReactNode }) {
  return (
    <div className="alert alert-error" role="alert">
      {children}
    </div>
  );
}
