'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { EvaluateModelMutation, EvaluationUpdatedSubscription } from '../../graphql/operations/models';
import { request } from '../../lib/graphql';
import { useSubscription } from '../../lib/subscriptions';
import { FieldError, SelectField, TextField } from '../Field';
import { SubmitButton } from '../SubmitButton';
import { ProgressBar } from './ProgressBar';
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

interface Running {
  id: string;
  status: string;
  queuePosition?: number | null;
  samplesDone: number;
  numSamples: number;
  error?: string | null;
}

/** Queues an evaluation of a version against a dataset version and follows it until its numbers are in. */
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
  const [running, setRunning] = useState<Running | null>(null);

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
    setRunning(result.data.evaluateModel);
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
      {running ? <EvaluationProgress key={running.id} initial={running} /> : null}
    </form>
  );
}

function EvaluationProgress({ initial }: { initial: Running }) {
  const router = useRouter();
  const [evaluation, setEvaluation] = useState(initial);
  useSubscription(EvaluationUpdatedSubscription, { id: initial.id }, (data) => {
    setEvaluation(data.evaluationUpdated);
    if (data.evaluationUpdated.status === 'SUCCEEDED') router.refresh();
  });
  if (evaluation.status === 'FAILED')
    return <FieldError>Evaluation failed: {evaluation.error ?? 'no reason given'}</FieldError>;
  if (evaluation.status === 'SUCCEEDED')
    return <p role="status">Evaluation finished: its numbers are in the table above.</p>;
  if (evaluation.status === 'QUEUED')
    return (
      <p role="status">
        Evaluation queued
        {evaluation.queuePosition != null
          ? evaluation.queuePosition === 0
            ? ': starts next'
            : `: ${evaluation.queuePosition} ahead of it`
          : '…'}
      </p>
    );
  return (
    <ProgressBar
      label={`Evaluating: ${evaluation.samplesDone} of ${evaluation.numSamples} images generated`}
      fraction={evaluation.samplesDone / Math.max(1, evaluation.numSamples)}
    />
  );
}
