'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { FormError, SelectField, TextField } from '../../../../../../components/Field';
import { SubmitButton } from '../../../../../../components/SubmitButton';
import { RunPresetsQuery, StartRunMutation } from '../../../../../../graphql/operations/runs';
import type { ResultOf, VariablesOf } from '../../../../../../graphql/tada';
import { clearErrorOnEdit, toFieldErrors, type FieldErrors } from '../../../../../../lib/form-errors';
import { request } from '../../../../../../lib/graphql';
import type { FineTuneBase } from './fine-tune-base';

export interface DatasetChoice {
  versionId: string;
  /** The dataset's image side; the model is built for it (presets have their own default). */
  resolution: number;
  /** Class labels (top-level folders) of the version, in label-id order. */
  labels: readonly string[];
  label: string;
}

const FIELDS = [
  'name',
  'datasetVersionId',
  'architecture',
  'preset',
  'conditioning',
  'labelDropout',
  'steps',
  'batchSize',
  'lr',
  'seed',
  'sampleEvery',
  'checkpointEvery',
  'heldOutEvery',
  'coupling',
  'fromModelVersionId',
] as const;
type Field = (typeof FIELDS)[number];

/** The presets the hub serves, with the defaults they resolve to on one dataset version. */
export type RunPresets = ResultOf<typeof RunPresetsQuery>['runPresets'];
type RunConfigInput = VariablesOf<typeof StartRunMutation>['input']['config'];
type PresetName = RunConfigInput['preset'];
type ArchitectureName = NonNullable<RunConfigInput['architecture']>;
type ConditioningName = NonNullable<RunConfigInput['conditioning']>;
type CouplingName = NonNullable<NonNullable<RunConfigInput['model']>['coupling']>;

/** What each architecture is, in a user's words (the choices themselves come from runPresets). */
const ARCHITECTURE_LABELS: Record<ArchitectureName, { label: string; hint: string }> = {
  DDPM: {
    label: 'Diffusion (DDPM)',
    hint: 'A denoising UNet trained on the variational bound: strong samples, many network passes per sample.',
  },
  GLOW: {
    label: 'Flow (Glow)',
    // Measured (packages/models/bench/glow-sample-quality.ts): on two-class shape images glow-tiny's samples were
    // still ≥ 89 % plain background after 2,000 steps, where DDPM tiny drew the shape in about half of them at 800.
    hint:
      'A normalizing flow trained by exact maximum likelihood: bits/dim from the first step, samples in one pass. ' +
      'Its samples lag its likelihood: a small Glow can draw mostly background for thousands of steps where a ' +
      'diffusion model already draws the objects.',
  },
};

const COUPLINGS: { value: '' | CouplingName; label: string }[] = [
  { value: '', label: 'Preset default (affine)' },
  { value: 'AFFINE', label: 'Affine (scale and shift)' },
  { value: 'ADDITIVE', label: 'Additive (shift only)' },
];

const CONDITIONINGS = [
  { value: '', label: 'Automatic' },
  { value: 'CLASS', label: 'Class-conditional' },
  { value: 'NONE', label: 'Unconditional' },
];

/** GLOW_TINY → "Glow tiny". */
const titleCase = (name: string) => name.charAt(0) + name.slice(1).toLowerCase().replace(/_/g, ' ');

/** A stored preset name as the GraphQL enum value: glow-tiny → GLOW_TINY. */
const presetEnum = (name: string) => name.toUpperCase().replace(/-/g, '_');

/** The preset's description, its size on this dataset, or why it cannot train on it. */
function presetHint(preset: RunPresets[number] | undefined): string | undefined {
  if (!preset) return undefined;
  if (preset.error) return preset.error;
  const params =
    preset.parameters >= 1e6 ? `${(preset.parameters / 1e6).toFixed(1)} M` : `${Math.round(preset.parameters / 1e3)} k`;
  return `${preset.description} ${params} parameters at ${preset.resolution}×${preset.resolution}.`;
}

/** What conditioning the run gets, in words: explicit, else what the hub picks from the dataset's labels. */
function conditioningHint(choice: string, labels: readonly string[]): string {
  const names = labels.length > 6 ? `${labels.slice(0, 6).join(', ')}, …` : labels.join(', ');
  if (choice === 'NONE') return 'Samples are not tied to a class.';
  if (labels.length === 0)
    return choice === 'CLASS'
      ? 'This dataset has no labels (one folder per class makes them): pick Unconditional.'
      : 'This dataset has no labels: the model is unconditional.';
  if (choice === '' && labels.length < 2)
    return `One label (${names}) conditions on nothing: the model is unconditional.`;
  return `One class per label (${names}); sample grids show a row per class, and the playground samples a chosen class.`;
}

/** Checks as you type, mirroring the server's limits (the server checks again and names the field). */
function validate(values: Record<Field, string>): FieldErrors<Field> {
  const errors: FieldErrors<Field> = {};
  const int = (field: Field, min: number, max: number) => {
    const raw = values[field].trim();
    if (raw === '') return;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      errors[field] = `Use a whole number from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}`;
  };
  if (!values.name.trim()) errors.name = 'Name the run, e.g. "tiles-tiny-1"';
  int('steps', 1, 10_000_000);
  int('batchSize', 1, 512);
  int('seed', 0, 2 ** 31 - 1);
  int('sampleEvery', 1, 10_000_000);
  int('checkpointEvery', 1, 10_000_000);
  int('heldOutEvery', 1, 10_000_000);
  if (values.labelDropout.trim() !== '') {
    const p = Number(values.labelDropout);
    if (!Number.isFinite(p) || p < 0 || p > 1) errors.labelDropout = 'Use a number from 0 to 1, e.g. 0.1';
  }
  if (values.lr.trim() !== '') {
    const lr = Number(values.lr);
    if (!Number.isFinite(lr) || lr <= 0 || lr > 1) errors.lr = 'Use a number above 0 and at most 1, e.g. 0.0002';
  }
  return errors;
}

export function StartRunForm({
  teamSlug,
  datasets,
  presets: initialPresets,
  base = null,
}: {
  teamSlug: string;
  datasets: readonly DatasetChoice[];
  /** runPresets on the first dataset choice (the form asks again when another dataset is picked). */
  presets: RunPresets;
  base?: FineTuneBase | null;
}) {
  const router = useRouter();
  const [values, setValues] = useState<Record<Field, string>>({
    name: '',
    datasetVersionId: datasets[0]?.versionId ?? '',
    architecture: (base?.architecture ?? 'ddpm').toUpperCase(),
    preset: presetEnum(base?.preset ?? 'tiny'),
    // A fine-tune keeps the base's conditioning (the hub's default when left out).
    conditioning: '',
    labelDropout: '',
    fromModelVersionId: base?.versionId ?? '',
    steps: '',
    batchSize: '',
    lr: '',
    seed: '',
    sampleEvery: '',
    checkpointEvery: '',
    heldOutEvery: '',
    coupling: '',
  });
  const [errors, setErrors] = useState<FieldErrors<Field>>({});
  const [touched, setTouched] = useState<Partial<Record<Field, boolean>>>({});
  const [pending, setPending] = useState(false);
  // Defaults depend on the dataset (its resolution, its labels): fetched per dataset version, kept once fetched.
  const [presetsByVersion, setPresetsByVersion] = useState<Record<string, RunPresets>>(() =>
    datasets[0] ? { [datasets[0].versionId]: initialPresets } : {},
  );
  const versionId = values.datasetVersionId;
  useEffect(() => {
    if (!versionId || presetsByVersion[versionId]) return;
    let cancelled = false;
    void request(RunPresetsQuery, { datasetVersionId: versionId }).then((result) => {
      if (!cancelled && result.ok) setPresetsByVersion((p) => ({ ...p, [versionId]: result.data.runPresets }));
    });
    return () => {
      cancelled = true;
    };
  }, [versionId, presetsByVersion]);
  const allPresets = presetsByVersion[versionId] ?? initialPresets;
  // The architectures are the ones the hub has presets for, in its order; the presets shown are the chosen one's.
  const architectures = [...new Set(allPresets.map((p) => p.architecture))];
  const presets = allPresets.filter((p) => p.architecture === values.architecture);
  const preset = presets.find((p) => p.preset === values.preset);
  const glow = values.architecture === 'GLOW';
  const defaults = preset?.defaults;
  /** The value the hub uses when the field is left empty, as the field's placeholder. */
  const placeholder = (value: number | null | undefined, format: (v: number) => string = String) =>
    value === undefined || value === null ? undefined : format(value);
  // Typed-as-you-go errors are shown once a field has been left (or on submit), server errors always.
  const live = validate(values);
  const shown = (field: Field) => errors[field] ?? (touched[field] ? live[field] : undefined);

  const bind = (field: Field) => ({
    name: field,
    value: values[field],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
      setValues((v) => {
        const next = { ...v, [field]: e.target.value };
        // Another architecture: its first preset, and none of the other family's settings.
        if (field === 'architecture' && e.target.value !== v.architecture) {
          next.preset = allPresets.find((p) => p.architecture === e.target.value)?.preset ?? '';
          next.labelDropout = '';
          next.coupling = '';
        }
        return next;
      }),
    onBlur: () => setTouched((t) => ({ ...t, [field]: true })),
    error: shown(field),
  });

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setTouched(Object.fromEntries(FIELDS.map((f) => [f, true])));
    if (Object.keys(live).length > 0) return;
    setPending(true);
    const optionalInt = (raw: string) => (raw.trim() === '' ? undefined : Number(raw));
    const resolution = datasets.find((d) => d.versionId === values.datasetVersionId)?.resolution;
    // A fine-tune sends the base's network as it was trained (the hub refuses any difference); a new run leaves
    // the resolution to the hub, which takes the dataset's.
    const result = await request(StartRunMutation, {
      input: {
        name: values.name.trim(),
        datasetVersionId: values.datasetVersionId,
        seed: optionalInt(values.seed),
        ...(base ? { fromModelVersionId: base.versionId } : {}),
        config: {
          architecture: values.architecture as ArchitectureName,
          preset: values.preset as PresetName,
          ...(base
            ? { model: { ...base.model, resolution } }
            : glow && values.coupling !== ''
              ? { model: { coupling: values.coupling as CouplingName } }
              : {}),
          conditioning: base || values.conditioning === '' ? undefined : (values.conditioning as ConditioningName),
          labelDropout: glow || values.labelDropout.trim() === '' ? undefined : Number(values.labelDropout),
          heldOutEvery: optionalInt(values.heldOutEvery),
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
    // The new run's page: its progress, then its loss curve and sample grids, live.
    router.push(`/t/${teamSlug}/runs/${result.data.startRun.id}`);
  }

  return (
    <form className="card card-body form" onSubmit={onSubmit} onChange={clearErrorOnEdit(setErrors)} noValidate>
      {errors.form ? <FormError>{errors.form}</FormError> : null}
      {base ? (
        <div className="field" data-testid="fine-tune-base">
          <span className="field-label">Fine-tuning</span>
          <p>
            <strong>{base.label}</strong> · {base.resolution}×{base.resolution}{' '}
            {base.channels === 1 ? 'grayscale' : 'RGB'} · preset {base.preset} ·{' '}
            {base.labelNames.length ? `${base.labelNames.length} classes` : 'unconditional'}
          </p>
          <p className="field-hint">
            The run starts from this version’s weights with a fresh optimizer, and keeps its network and conditioning.
          </p>
          {base.labelNames.length ? (
            <p className="field-hint">
              The dataset needs {base.labelNames.length} classes. One with the same name as the base’s (
              {base.labelNames.slice(0, 8).join(', ')}
              {base.labelNames.length > 8 ? ', …' : ''}) keeps what it learned there; the others take the remaining
              classes in order.
            </p>
          ) : null}
          {/* Preset and conditioning are not editable here: their errors (a network that differs from the base) show with it. */}
          {errors.fromModelVersionId || errors.conditioning || errors.preset ? (
            <FormError>{errors.fromModelVersionId ?? errors.conditioning ?? errors.preset}</FormError>
          ) : null}
        </div>
      ) : null}
      <TextField
        label="Run name"
        autoComplete="off"
        maxLength={100}
        placeholder={base ? 'tiles-finetune-1' : 'tiles-tiny-1'}
        {...bind('name')}
      />
      <SelectField
        label="Dataset"
        options={datasets.map((d) => ({ value: d.versionId, label: d.label }))}
        {...bind('datasetVersionId')}
      />
      {base ? null : (
        <>
          <SelectField
            label="Architecture"
            options={architectures.map((a) => ({ value: a, label: ARCHITECTURE_LABELS[a].label }))}
            hint={ARCHITECTURE_LABELS[values.architecture as ArchitectureName]?.hint}
            {...bind('architecture')}
          />
          <SelectField
            label="Preset"
            options={presets.map((p) => ({ value: p.preset, label: titleCase(p.preset) }))}
            hint={presetHint(preset)}
            {...bind('preset')}
          />
          <SelectField
            label="Conditioning"
            options={CONDITIONINGS}
            hint={conditioningHint(
              values.conditioning,
              datasets.find((d) => d.versionId === values.datasetVersionId)?.labels ?? [],
            )}
            {...bind('conditioning')}
          />
        </>
      )}
      <details className="advanced">
        <summary>Advanced settings</summary>
        <div className="form" style={{ marginTop: 12 }}>
          <div className="form-row">
            <TextField
              label="Steps"
              inputMode="numeric"
              placeholder={placeholder(defaults?.steps)}
              {...bind('steps')}
            />
            <TextField
              label="Batch size"
              inputMode="numeric"
              placeholder={placeholder(defaults?.batchSize)}
              {...bind('batchSize')}
            />
          </div>
          <div className="form-row">
            <TextField
              label="Learning rate"
              inputMode="decimal"
              placeholder={placeholder(defaults?.lr)}
              {...bind('lr')}
            />
            <TextField label="Seed" inputMode="numeric" placeholder="random" {...bind('seed')} />
          </div>
          <div className="form-row">
            {glow ? (
              <SelectField
                label="Coupling"
                options={COUPLINGS}
                hint="Affine coupling is Glow's (every preset's); additive is cheaper and volume-preserving."
                {...bind('coupling')}
              />
            ) : (
              <TextField
                label="Label dropout"
                inputMode="decimal"
                placeholder={placeholder(defaults?.labelDropout)}
                hint="Class-conditional runs: how often an image trains without its label, so guidance can steer samples."
                {...bind('labelDropout')}
              />
            )}
            <TextField
              label="Held-out bits/dim interval"
              inputMode="numeric"
              placeholder={placeholder(defaults?.heldOutEvery, (n) => `every ${n}`)}
              hint={
                glow
                  ? 'Exact bits/dim on images no run on this dataset version trains on.'
                  : 'The variational bound in bits/dim on the held-out images every Glow run scores too.'
              }
              {...bind('heldOutEvery')}
            />
          </div>
          <div className="form-row">
            <TextField
              label="Sample grid interval"
              inputMode="numeric"
              placeholder={placeholder(defaults?.sampleEvery, (n) => `every ${n}`)}
              {...bind('sampleEvery')}
            />
            <TextField
              label="Checkpoint interval"
              inputMode="numeric"
              placeholder={placeholder(defaults?.checkpointEvery, (n) => `every ${n}`)}
              {...bind('checkpointEvery')}
            />
          </div>
        </div>
      </details>
      <div>
        <SubmitButton pending={pending} pendingLabel="Starting…">
          {base ? 'Start fine-tuning' : 'Start run'}
        </SubmitButton>
      </div>
    </form>
  );
}
