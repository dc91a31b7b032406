'use client';

import Link from 'next/link';
import { useId, useState, type FormEvent } from 'react';
import { ForkRunMutation, ResumeRunMutation, type RunDetail } from '../../graphql/operations/run-detail';
import { CancelRunMutation } from '../../graphql/operations/runs';
import { request } from '../../lib/graphql';
import { DeleteRun } from './DeleteRun';
import { allowedActions, isLive } from './run-status';
import styles from './runs.module.css';
import { SubmitButton } from '../SubmitButton';

/**
 * Cancel / resume / fork, enabled by status as the API allows them. The run itself updates over
 * runUpdated, so a successful call only clears the busy state; failures are shown next to the buttons.
 */
export function RunActions({ run, teamSlug, onChanged }: { run: RunDetail; teamSlug: string; onChanged: () => void }) {
  const allowed = allowedActions(run);
  const [busy, setBusy] = useState<'cancel' | 'resume' | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [forking, setForking] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function act(kind: 'cancel' | 'resume') {
    setBusy(kind);
    setError(null);
    const result =
      kind === 'cancel'
        ? await request(CancelRunMutation, { id: run.id })
        : await request(ResumeRunMutation, { id: run.id });
    setBusy(null);
    setConfirmCancel(false);
    if (!result.ok) setError(result.errors[0]?.message ?? `Could not ${kind} the run`);
    else onChanged();
  }

  return (
    <div className={styles.actions}>
      <div className={styles.actionButtons}>
        {confirmCancel ? (
          <>
            <button
              type="button"
              className="btn btn-danger btn-sm"
              onClick={() => act('cancel')}
              disabled={busy !== null}
            >
              {busy === 'cancel' ? <span className="spinner" aria-hidden="true" /> : null}
              Confirm cancel
            </button>
            <button
              type="button"
              className="btn btn-ghost btn-sm"
              onClick={() => setConfirmCancel(false)}
              disabled={busy !== null}
            >
              Keep running
            </button>
          </>
        ) : (
          <button
            type="button"
            className="btn btn-secondary btn-sm"
            onClick={() => setConfirmCancel(true)}
            disabled={!allowed.cancel || busy !== null}
          >
            Cancel run
          </button>
        )}
        <button
          type="button"
          className="btn btn-secondary btn-sm"
          onClick={() => act('resume')}
          disabled={!allowed.resume || busy !== null}
          title={allowed.resume ? undefined : 'Only failed or cancelled runs can be resumed'}
        >
          {busy === 'resume' ? <span className="spinner" aria-hidden="true" /> : null}
          Resume
        </button>
        <button
          type="button"
          className="btn btn-secondary btn-sm"
          onClick={() => setForking((f) => !f)}
          disabled={!allowed.fork}
          aria-expanded={forking}
          title={allowed.fork ? undefined : 'Forking needs a checkpoint'}
        >
          Fork…
        </button>
      </div>
      {/* Finished runs only: the API refuses queued and active ones (cancel first). */}
      {!isLive(run.status) ? <DeleteRun runId={run.id} runName={run.name} teamSlug={teamSlug} /> : null}
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      {forking && allowed.fork ? <ForkForm run={run} teamSlug={teamSlug} onClose={() => setForking(false)} /> : null}
    </div>
  );
}

/** Picks a checkpoint step (and optionally a name) and shows a link to the new run. */
function ForkForm({ run, teamSlug, onClose }: { run: RunDetail; teamSlug: string; onClose: () => void }) {
  const steps = run.checkpoints.map((c) => c.step).sort((a, b) => b - a);
  const [step, setStep] = useState(String(steps[0] ?? ''));
  const [name, setName] = useState(`${run.name}-fork`);
  // A fork must train past its starting step: from the last checkpoint of a finished run, that means more steps.
  const [totalSteps, setTotalSteps] = useState(
    String(run.config.steps > (steps[0] ?? 0) ? run.config.steps : (steps[0] ?? 0) + run.config.steps),
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ field?: string; message: string } | null>(null);
  const [created, setCreated] = useState<{ id: string; name: string } | null>(null);
  const stepId = useId();
  const nameId = useId();
  const totalId = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    const steps = Number(totalSteps);
    if (!Number.isInteger(steps) || steps <= Number(step)) {
      setError({
        field: 'overrides.steps',
        message: `Total steps must be a whole number greater than the starting step (${step}).`,
      });
      return;
    }
    setBusy(true);
    const overrides = steps === run.config.steps ? undefined : { steps };
    const result = await request(ForkRunMutation, {
      input: { id: run.id, fromStep: Number(step), name: name.trim() || undefined, overrides },
    });
    setBusy(false);
    if (!result.ok) {
      const first = result.errors[0];
      setError({ field: first?.field, message: first?.message ?? 'Could not fork the run' });
      return;
    }
    setCreated(result.data.forkRun);
  }

  if (created) {
    return (
      <div className="alert alert-success" role="status">
        Forked as <Link href={`/t/${teamSlug}/runs/${created.id}`}>{created.name}</Link>.{' '}
        <button type="button" className="btn btn-ghost btn-sm" onClick={onClose}>
          Close
        </button>
      </div>
    );
  }
  const nameError = error && error.field?.endsWith('name') ? error.message : null;
  const stepsError = error && error.field === 'overrides.steps' ? error.message : null;
  return (
    <form className={styles.inlineForm} onSubmit={submit} aria-label="Fork this run">
      <div className="field">
        <label className="field-label" htmlFor={stepId}>
          From checkpoint at step
        </label>
        <select id={stepId} className="select" value={step} onChange={(e) => setStep(e.target.value)}>
          {steps.map((s) => (
            <option key={s} value={s}>
              {s.toLocaleString('en')}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label className="field-label" htmlFor={nameId}>
          New run name
        </label>
        <input
          id={nameId}
          className="input"
          value={name}
          onChange={(e) => setName(e.target.value)}
          aria-invalid={nameError ? true : undefined}
          aria-describedby={nameError ? `${nameId}-error` : undefined}
        />
        {nameError ? (
          <p id={`${nameId}-error`} className="field-error">
            {nameError}
          </p>
        ) : null}
      </div>
      <div className="field">
        <label className="field-label" htmlFor={totalId}>
          Total steps
        </label>
        <input
          id={totalId}
          className="input"
          type="number"
          inputMode="numeric"
          min={1}
          value={totalSteps}
          onChange={(e) => setTotalSteps(e.target.value)}
          aria-invalid={stepsError ? true : undefined}
          aria-describedby={stepsError ? `${totalId}-error` : undefined}
        />
        {stepsError ? (
          <p id={`${totalId}-error`} className="field-error">
            {stepsError}
          </p>
        ) : null}
      </div>
      <div className={styles.actionButtons}>
        <SubmitButton pending={busy} size="sm">
          Fork run
        </SubmitButton>
        <button type="button" className="btn btn-ghost btn-sm" onClick={onClose}>
          Close
        </button>
      </div>
      {error && !nameError && !stepsError ? (
        <p className="field-error" role="alert">
          {error.message}
        </p>
      ) : null}
    </form>
  );
}
