'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { FormError, SelectField, TextField } from '../../../../../../components/Field';
import { SubmitButton } from '../../../../../../components/SubmitButton';
import { StartRunMutation } from '../../../../../../graphql/operations/runs';
import { clearErrorOnEdit, toFieldErrors, type FieldErrors } from '../../../../../../lib/form-errors';
import { request } from '../../../../../../lib/graphql';

export interface DatasetChoice {
  versionId: string;
  /** The dataset's image side; the model is built for it (presets have their own default). */
  resolution: number;
  label: string;
}

const FIELDS = ['name', 'datasetVersionId', 'preset', 'steps', 'batchSize', 'lr', 'seed', 'sampleEvery', 'checkpointEvery'] as const;
type Field = (typeof FIELDS)[number];

const PRESETS = [
  { value: 'tiny', label: 'Tiny' },
  { value: 'small', label: 'Small' },
  { value: 'base', label: 'Base' },
];
const PRESET_HINTS: Record<string, string> = {
  tiny: 'A quick check that everything works: minutes on a CPU.',
  small: 'A first real model.',
  base: 'The best quality; wants a GPU.',
};

/** Checks as you type, mirroring the server's limits (the server checks again and names the field). */
function validate(values: Record<Field, string>): FieldErrors<Field> {
  const errors: FieldErrors<Field> = {};
  const int = (field: Field, min: number, max: number) => {
    const raw = values[field].trim();
    if (raw === '') return;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) errors[field] = `Use a whole number from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}`;
  };
  if (!values.name.trim()) errors.name = 'Name the run, e.g. "tiles-tiny-1"';
  int('steps', 1, 10_000_000);
  int('batchSize', 1, 512);
  int('seed', 0, 2 ** 31 - 1);
  int('sampleEvery', 1, 10_000_000);
  int('checkpointEvery', 1, 10_000_000);
  if (values.lr.trim() !== '') {
    const lr = Number(values.lr);
    if (!Number.isFinite(lr) || lr <= 0 || lr > 1) errors.lr = 'Use a number above 0 and at most 1, e.g. 0.0002';
  }
  return errors;
}

export function StartRunForm({ teamSlug, datasets }: { teamSlug: string; datasets: readonly DatasetChoice[] }) {
  const router = useRouter();
  const [values, setValues] = useState<Record<Field, string>>({
    name: '',
    datasetVersionId: datasets[0]?.versionId ?? '',
    preset: 'tiny',
    steps: '',
    batchSize: '',
    lr: '',
    seed: '',
    sampleEvery: '',
    checkpointEvery: '',
  });
  const [errors, setErrors] = useState<FieldErrors<Field>>({});
  const [touched, setTouched] = useState<Partial<Record<Field, boolean>>>({});
  const [pending, setPending] = useState(false);
  // Typed-as-you-go errors are shown once a field has been left (or on submit), server errors always.
  const live = validate(values);
  const shown = (field: Field) => errors[field] ?? (touched[field] ? live[field] : undefined);

  const bind = (field: Field) => ({
    name: field,
    value: values[field],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setValues((v) => ({ ...v, [field]: e.target.value })),
    onBlur: () => setTouched((t) => ({ ...t, [field]: true })),
    error: shown(field),
  });

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setTouched(Object.fromEntries(FIELDS.map((f) => [f, true])));
    if (Object.keys(live).length > 0) return;
    setPending(true);
    const optionalInt = (raw: string) => (raw.trim() === '' ? undefined : Number(raw));
    const result = await request(StartRunMutation, {
      input: {
        name: values.name.trim(),
        datasetVersionId: values.datasetVersionId,
        seed: optionalInt(values.seed),
        config: {
          preset: values.preset,
          model: { resolution: datasets.find((d) => d.versionId === values.datasetVersionId)?.resolution },
          steps: optionalInt(values.steps),
          batchSize: optionalInt(values.batchSize),
          lr: values.lr.trim() === '' ? undefined : Number(values.lr),
          sampleEvery: optionalInt(values.sampleEvery),
          checkpointEvery: optionalInt(values.checkpointEvery),
        },
      },
    });
    if (!result.ok) {
      setErrors(toFieldErrors(result.errors, FIELDS));
      setPending(false);
      return;
    }
    router.push(`/t/${teamSlug}/runs`);
    router.refresh();
  }

  return (
    <form className="card card-body form" onSubmit={onSubmit} onChange={clearErrorOnEdit(setErrors)} noValidate>
      {errors.form ? <FormError>{errors.form}</FormError> : null}
      <TextField label="Run name" autoComplete="off" maxLength={100} placeholder="tiles-tiny-1" {...bind('name')} />
      <SelectField label="Dataset" options={datasets.map((d) => ({ value: d.versionId, label: d.label }))} {...bind('datasetVersionId')} />
      <SelectField label="Preset" options={PRESETS} hint={PRESET_HINTS[values.preset]} {...bind('preset')} />
      <details className="advanced">
        <summary>Advanced settings</summary>
        <div className="form" style={{ marginTop: 12 }}>
          <div className="form-row">
            <TextField label="Steps" inputMode="numeric" placeholder="preset default" {...bind('steps')} />
            <TextField label="Batch size" inputMode="numeric" placeholder="preset default" {...bind('batchSize')} />
          </div>
          <div className="form-row">
            <TextField label="Learning rate" inputMode="decimal" placeholder="preset default" {...bind('lr')} />
            <TextField label="Seed" inputMode="numeric" placeholder="random" {...bind('seed')} />
          </div>
          <div className="form-row">
            <TextField label="Sample grid interval" inputMode="numeric" placeholder="every 500" {...bind('sampleEvery')} />
            <TextField label="Checkpoint interval" inputMode="numeric" placeholder="every 1000" {...bind('checkpointEvery')} />
          </div>
        </div>
      </details>
      <div>
        <SubmitButton pending={pending} pendingLabel="Starting…">
          Start run
        </SubmitButton>
      </div>
    </form>
  );
}
