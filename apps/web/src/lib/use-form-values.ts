import { useState } from 'react';

/**
 * A form's text values held in the page (controlled fields) with an error per field; editing a field clears its
 * error, so a message does not linger under a value the person has already corrected.
 */
export function useFormValues<TValues extends { [K in keyof TValues]: string }>(initial: TValues) {
  const [values, setValues] = useState<TValues>(initial);
  const [errors, setErrors] = useState<Partial<Record<keyof TValues, string>>>({});

  function set<K extends keyof TValues>(key: K, value: TValues[K]) {
    setValues((current) => ({ ...current, [key]: value }));
    setErrors((current) => ({ ...current, [key]: undefined }));
  }

  /** What a TextField or SelectField bound to `key` takes: its value, its change handler and its error. */
  function bind<K extends keyof TValues>(key: K) {
    return {
      value: values[key],
      onChange: (event: { target: { value: string } }) => set(key, event.target.value as TValues[K]),
      error: errors[key],
    };
  }

  return { values, errors, setErrors, set, bind };
}
