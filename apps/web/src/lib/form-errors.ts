import type { ApiError } from './graphql';

/** Errors keyed by the form field they belong to; `form` holds those that belong to no field. */
export type FieldErrors<TField extends string> = Partial<Record<TField | 'form', string>>;

/**
 * Places API errors next to the fields that caused them. The server names the field in `extensions.field`
 * (possibly as a path such as `input.email`) and prefixes the message with it (`email: must be ...`);
 * the prefix is dropped because the message is shown under that field's label.
 * `fallback` assigns codes without a field to a field (e.g. a wrong password to `password`).
 */
export function toFieldErrors<TField extends string>(
  errors: ApiError[],
  fields: readonly TField[],
  fallback: Partial<Record<string, TField>> = {},
): FieldErrors<TField> {
  const result: FieldErrors<TField> = {};
  for (const error of errors) {
    const named = error.field?.split('.').pop();
    const field = fields.find((f) => f === named) ?? (error.field ? undefined : fallback[error.code]);
    const key: TField | 'form' = field ?? 'form';
    if (result[key]) continue; // first error per field is enough
    result[key] = field && error.field ? stripFieldPrefix(error.message, error.field) : error.message;
  }
  return result;
}

function stripFieldPrefix(message: string, field: string): string {
  for (const prefix of [`${field}: `, `${field.split('.').pop()}: `]) {
    if (message.startsWith(prefix)) {
      const rest = message.slice(prefix.length);
      return rest.charAt(0).toUpperCase() + rest.slice(1);
    }
  }
  return message;
}

/**
 * A form `onChange` handler that clears the error of the field being edited, so a message does not
 * linger under a value the person has already corrected.
 */
export function clearErrorOnEdit<TField extends string>(
  setErrors: (update: (current: FieldErrors<TField>) => FieldErrors<TField>) => void,
) {
  return (event: React.FormEvent<HTMLFormElement>) => {
    const name = (event.target as HTMLInputElement).name as TField | undefined;
    if (!name) return;
    setErrors((current) => (current[name] ? { ...current, [name]: undefined } : current));
  };
}
