'use client';

import Link from 'next/link';
import { useId, useState, type FormEvent } from 'react';
import { PublishCheckpointMutation, type RunDetail } from '../../graphql/operations/run-detail';
import { request } from '../../lib/graphql';
import { formatDateTime } from '../../lib/format';
import { formatBytes } from './run-status';
import { RunTable } from './RunTable';
import styles from './runs.module.css';
import { SubmitButton } from '../SubmitButton';

/**
 * The run's kept checkpoints, newest first, each publishable as a model version by members and up (a viewer sees
 * the list without the Publish buttons the API would refuse).
 */
export function CheckpointsTable({
  run,
  teamSlug,
  canPublish,
}: {
  run: RunDetail;
  teamSlug: string;
  canPublish: boolean;
}) {
  const checkpoints = [...run.checkpoints].sort((a, b) => b.step - a.step);
  const [publishing, setPublishing] = useState<number | null>(null);
  return (
    <section className="card" aria-labelledby="checkpoints-heading">
      <div className="card-header">
        <h2 id="checkpoints-heading">Checkpoints</h2>
      </div>
      {checkpoints.length === 0 ? (
        <div className="empty">
          <h3>No checkpoints yet</h3>
          <p>
            Checkpoints are written every {run.config.checkpointEvery.toLocaleString('en')} steps and when a run stops;
            publish one to share it as a model.
          </p>
        </div>
      ) : (
        <RunTable
          columns={[
            'Step',
            'Size',
            'Written',
            ...(canPublish
              ? [
                  <span key="actions" className="visually-hidden">
                    Actions
                  </span>,
                ]
              : []),
          ]}
        >
          {checkpoints.map((c) => (
            <tr key={c.step} data-testid={`checkpoint-${c.step}`}>
              <td className="mono">{c.step.toLocaleString('en')}</td>
              <td>{formatBytes(c.sizeBytes)}</td>
              <td>{formatDateTime(c.createdAt)}</td>
              {canPublish ? (
                <td className={styles.cellActions}>
                  {publishing === c.step ? (
                    <PublishForm
                      runId={run.id}
                      step={c.step}
                      defaultName={run.name}
                      teamSlug={teamSlug}
                      onClose={() => setPublishing(null)}
                    />
                  ) : (
                    <button
                      type="button"
                      className="btn btn-secondary btn-sm"
                      onClick={() => setPublishing(c.step)}
                      aria-label={`Publish the checkpoint at step ${c.step}`}
                    >
                      Publish
                    </button>
                  )}
                </td>
              ) : null}
            </tr>
          ))}
        </RunTable>
      )}
    </section>
  );
}

function PublishForm({
  runId,
  step,
  defaultName,
  teamSlug,
  onClose,
}: {
  runId: string;
  step: number;
  defaultName: string;
  teamSlug: string;
  onClose: () => void;
}) {
  const [name, setName] = useState(defaultName);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [published, setPublished] = useState<{ modelId: string; modelName: string; version: number } | null>(null);
  const nameId = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) {
      setError('Give the model a name.');
      return;
    }
    setBusy(true);
    setError(null);
    const result = await request(PublishCheckpointMutation, { input: { runId, step, modelName: name.trim() } });
    setBusy(false);
    if (!result.ok) {
      setError(result.errors[0]?.message ?? 'Could not publish the checkpoint');
      return;
    }
    const { model, version } = result.data.publishModel;
    setPublished({ modelId: model.id, modelName: model.name, version: version.number });
  }

  if (published) {
    return (
      <span role="status" data-testid="published-model">
        Published as{' '}
        <Link
          href={`/t/${teamSlug}/models/${published.modelId}`}
        >{`${published.modelName} v${published.version}`}</Link>
      </span>
    );
  }
  return (
    <form className={styles.publishForm} onSubmit={submit} aria-label={`Publish step ${step}`}>
      <label className="visually-hidden" htmlFor={nameId}>
        Model name
      </label>
      <input
        id={nameId}
        className="input"
        value={name}
        placeholder="Model name"
        onChange={(e) => setName(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${nameId}-error` : undefined}
        autoFocus
      />
      <SubmitButton pending={busy} size="sm">
        Publish
      </SubmitButton>
      <button type="button" className="btn btn-ghost btn-sm" onClick={onClose} disabled={busy}>
        Cancel
      </button>
      {error ? (
        <p id={`${nameId}-error`} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}
