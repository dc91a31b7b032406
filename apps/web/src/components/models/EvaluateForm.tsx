'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { EvaluateModelMutation } from '../../graphql/operations/models';
import { request } from '../../lib/graphql';
import { SelectField, TextField } from '../Field';
import { SubmitButton } from '../SubmitButton';
import styles from './models.module.css';

type Extractor = 'PRETRAINED' | 'OFFLINE' | 'INCEPTION';

/**
 * Short labels, what each means in the hint under the select: "Random conv (legacy, cannot tell good from bad)" was
 * 373 px of text, wider than the whole form on a phone (280 px), and the select cut it off.
 */
const EXTRACTORS: readonly { value: Extractor; label: string }[] = [
  { value: 'PRETRAINED', label: 'Pretrained MobileNetV2 (default)' },
  { value: 'OFFLINE', label: 'Random conv (legacy)' },
  { value: 'INCEPTION', label: 'InceptionV3 (if configured)' },
];
const EXTRACTOR_HINTS: Record<Extractor, string> = {
  PRETRAINED: 'Installs with npm; compares versions here, not with published numbers.',
  OFFLINE: 'Cannot tell good samples from bad: kept to recompute old rows.',
  INCEPTION: 'Paper-comparable FID and IS, where the hub has InceptionV3.',
};

/**
 * Queues an evaluation of a version against a dataset version. The page then lists it with the model's other
 * evaluations in progress (EvaluationActivity), where it is followed live and can be cancelled.
 */
export function EvaluateForm({
  versionId,
  datasets,
}: {
  versionId: string;
  datasets: readonly { versionId: string; label: string }[];
}) {
  const [dataset, setDataset] = useState(datasets[0]?.versionId ?? '');
  const [numSamples, setNumSamples] = useState('100');
  const [extractor, setExtractor] = useState<Extractor>('PRETRAINED');
  const [errors, setErrors] = useState<Record<string, string | undefined>>({});
  const [pending, setPending] = useState(false);
  const [queued, setQueued] = useState(false);
  const router = useRouter();

  if (datasets.length === 0) {
    return (
      <p className="card-body muted">
        To evaluate, the team needs a ready dataset at this model’s resolution and channels.
      </p>
    );
  }

  async function submit(event: React.FormEvent) {
    event.preventDefault();
    const n = Number(numSamples);
    if (!Number.isInteger(n) || n < 10 || n > 10000)
      return setErrors({ numSamples: 'Samples must be a whole number from 10 to 10000.' });
    setPending(true);
    const result = await request(EvaluateModelMutation, {
      input: { modelVersionId: versionId, datasetVersionId: dataset, numSamples: n, extractor },
    });
    setPending(false);
    if (!result.ok) {
      const error = result.errors[0];
      const field = error?.field?.split('.').pop();
      return setErrors({
        [field === 'datasetVersionId' || field === 'extractor' ? field : 'numSamples']:
          error?.message ?? 'Could not start the evaluation',
      });
    }
    setErrors({});
    setQueued(true);
    router.refresh();
  }

  return (
    <form className={`card-body form ${styles.evaluateForm}`} onSubmit={submit} noValidate>
      <div className={styles.evaluateFields}>
        <SelectField
          label="Reference dataset"
          value={dataset}
          onChange={(e) => {
            setDataset(e.target.value);
            setErrors({});
          }}
          options={datasets.map((d) => ({ value: d.versionId, label: d.label }))}
          error={errors.datasetVersionId}
        />
        <TextField
          label="Samples"
          inputMode="numeric"
          value={numSamples}
          onChange={(e) => {
            setNumSamples(e.target.value);
            setErrors({});
          }}
          error={errors.numSamples}
          hint="10–10000 generated and as many real"
        />
        <SelectField
          label="Feature extractor"
          value={extractor}
          onChange={(e) => setExtractor(e.target.value as Extractor)}
          error={errors.extractor}
          options={EXTRACTORS}
          hint={EXTRACTOR_HINTS[extractor]}
        />
      </div>
      <div className={styles.actions}>
        <SubmitButton pending={pending} variant="secondary" size="sm">
          Evaluate
        </SubmitButton>
      </div>
      {queued ? <p role="status">Evaluation queued: follow it above, under In progress and recent.</p> : null}
    </form>
  );
}
