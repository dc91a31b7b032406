'use client';

import { useRef, useState } from 'react';
import { ModelVersionFilesQuery } from '../../graphql/operations/models';
import { GenerateSamplesMutation, readSampleJob } from '../../graphql/operations/sampling';
import { request } from '../../lib/graphql';
import { FieldError, FormError, SelectField, TextField } from '../Field';
import { ProgressBar } from './ProgressBar';
import { ImageGrid, SampleJobView, type SampleJob } from './SampleJobView';
import {
  checkSettings,
  DEFAULT_SETTINGS,
  fieldOf,
  type CheckedSettings,
  type SamplingSettings,
  type SettingsErrors,
} from './sampling-form';
import styles from './models.module.css';

type BrowserState =
  | { kind: 'idle' }
  | { kind: 'running'; stage: string; done: number; total: number }
  | { kind: 'done'; urls: string[]; seconds: number }
  | { kind: 'failed'; message: string };

/**
 * Sample a model version: on the server (a queued job, progress pushed live) or in this browser (the
 * weights are downloaded and run with TF.js here). Same settings and seed give the same images on the
 * server; the browser uses the same sampler code.
 */
export function SamplingPlayground({
  versionId,
  versionNumber,
  labelNames,
  shareToken = null,
}: {
  versionId: string;
  versionNumber: number;
  labelNames: readonly string[];
  shareToken?: string | null;
}) {
  const [settings, setSettings] = useState<SamplingSettings>(DEFAULT_SETTINGS);
  const [errors, setErrors] = useState<SettingsErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const [job, setJob] = useState<SampleJob | null>(null);
  const [browser, setBrowser] = useState<BrowserState>({ kind: 'idle' });
  const abort = useRef<AbortController | null>(null);

  function set<K extends keyof SamplingSettings>(key: K, value: SamplingSettings[K]) {
    setSettings((s) => ({ ...s, [key]: value }));
    setErrors((e) => ({ ...e, [key]: undefined }));
  }

  function checked(): CheckedSettings | null {
    const result = checkSettings(settings, labelNames);
    if (!result.ok) {
      setErrors(result.errors);
      return null;
    }
    setErrors({});
    setFormError(null);
    return result.value;
  }

  async function generateOnServer(event: React.FormEvent) {
    event.preventDefault();
    const s = checked();
    if (!s) return;
    setPending(true);
    const result = await request(GenerateSamplesMutation, {
      input: {
        modelVersionId: versionId,
        shareToken,
        count: s.count,
        steps: s.steps,
        sampler: s.sampler,
        eta: s.eta,
        seed: s.seed,
        guidance: s.guidance,
        label: s.label,
      },
    });
    setPending(false);
    if (!result.ok) {
      const byField: SettingsErrors = {};
      const other: string[] = [];
      for (const error of result.errors) {
        const field = fieldOf(error.field);
        if (field) byField[field] = error.message;
        else other.push(error.message);
      }
      setErrors(byField);
      setFormError(other.length > 0 ? other.join(' ') : null);
      return;
    }
    setJob(readSampleJob(result.data.generateSamples));
  }

  async function generateInBrowser() {
    const s = checked();
    if (!s) return;
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setBrowser({ kind: 'running', stage: 'Asking for the model files…', done: 0, total: s.steps });
    const started = performance.now();
    try {
      const files = await request(ModelVersionFilesQuery, { id: versionId, shareToken });
      if (!files.ok) throw new Error(files.errors[0]?.message ?? 'Could not get the model files');
      const { sampleInBrowser } = await import('./browser-sampling');
      const urls = await sampleInBrowser({
        modelJsonUrl: files.data.modelVersion.files.modelJsonUrl,
        weightsUrl: files.data.modelVersion.files.weightsUrl,
        count: s.count,
        steps: s.steps,
        sampler: s.sampler,
        eta: s.eta,
        seed: s.seed,
        label: s.label === null ? null : labelNames.indexOf(s.label),
        guidance: s.guidance,
        signal: controller.signal,
        onStage: (stage) => setBrowser((b) => (b.kind === 'running' ? { ...b, stage } : b)),
        onProgress: (done, total) => setBrowser((b) => (b.kind === 'running' ? { ...b, done, total } : b)),
      });
      setBrowser({ kind: 'done', urls, seconds: (performance.now() - started) / 1000 });
    } catch (err) {
      if (controller.signal.aborted) setBrowser({ kind: 'idle' });
      else setBrowser({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
    }
  }

  const browserRunning = browser.kind === 'running';
  return (
    <section className="card" aria-labelledby="playground-heading">
      <div className="card-header">
        <div>
          <h2 id="playground-heading">Sampling playground</h2>
          <p className="muted">Version {versionNumber}. The same seed and settings give the same images.</p>
        </div>
      </div>
      <form className="card-body form" onSubmit={generateOnServer} noValidate>
        <div className={styles.playgroundFields}>
          <TextField
            label="Seed"
            inputMode="numeric"
            value={settings.seed}
            onChange={(e) => set('seed', e.target.value)}
            error={errors.seed}
          />
          <TextField
            label="Steps"
            inputMode="numeric"
            value={settings.steps}
            onChange={(e) => set('steps', e.target.value)}
            error={errors.steps}
          />
          <SelectField
            label="Sampler"
            value={settings.sampler}
            onChange={(e) => set('sampler', e.target.value as 'DDIM' | 'DDPM')}
            options={[
              { value: 'DDIM', label: 'DDIM' },
              { value: 'DDPM', label: 'DDPM' },
            ]}
          />
          <TextField
            label="Eta"
            inputMode="decimal"
            value={settings.eta}
            onChange={(e) => set('eta', e.target.value)}
            error={errors.eta}
            disabled={settings.sampler === 'DDPM'}
            hint={settings.sampler === 'DDPM' ? 'DDIM only' : '0 = deterministic'}
          />
          <TextField
            label="Count"
            inputMode="numeric"
            value={settings.count}
            onChange={(e) => set('count', e.target.value)}
            error={errors.count}
            hint="1–64"
          />
          {labelNames.length > 0 ? (
            <>
              <SelectField
                label="Label"
                value={settings.label}
                onChange={(e) => set('label', e.target.value)}
                error={errors.label}
                options={[
                  { value: '', label: 'Any (unconditional)' },
                  ...labelNames.map((name) => ({ value: name, label: name })),
                ]}
              />
              <TextField
                label="Guidance"
                inputMode="decimal"
                value={settings.guidance}
                onChange={(e) => set('guidance', e.target.value)}
                error={errors.guidance}
                hint="0–20, needs a label"
              />
            </>
          ) : null}
        </div>
        {formError ? <FormError>{formError}</FormError> : null}
        <div className={styles.actions}>
          <button type="submit" className="btn btn-primary" disabled={pending} aria-busy={pending || undefined}>
            {pending ? <span className="spinner" aria-hidden="true" /> : null}
            Generate on server
          </button>
          <button
            type="button"
            className="btn btn-secondary"
            onClick={generateInBrowser}
            disabled={browserRunning}
            aria-busy={browserRunning || undefined}
          >
            {browserRunning ? <span className="spinner" aria-hidden="true" /> : null}
            Generate in browser
          </button>
          {browserRunning ? (
            <button type="button" className="btn btn-ghost" onClick={() => abort.current?.abort()}>
              Stop
            </button>
          ) : null}
        </div>
      </form>
      {job ? (
        <div className="card-body" aria-label="On the server">
          <h3>On the server</h3>
          <SampleJobView key={job.id} initial={job} shareToken={shareToken} />
        </div>
      ) : null}
      {browser.kind !== 'idle' ? (
        <div
          className="card-body"
          aria-label="In this browser"
          data-testid="browser-samples"
          data-status={browser.kind}
        >
          <h3>In this browser</h3>
          {browser.kind === 'running' ? (
            <ProgressBar
              label={`${browser.stage} step ${browser.done} of ${browser.total}`}
              fraction={browser.total ? browser.done / browser.total : 0}
            />
          ) : null}
          {browser.kind === 'failed' ? <FieldError>Browser sampling failed: {browser.message}</FieldError> : null}
          {browser.kind === 'done' ? (
            <>
              <p className="muted" role="status">
                {browser.urls.length} images in {browser.seconds.toFixed(1)} s on this device
              </p>
              <ImageGrid urls={browser.urls} label="Browser sample" />
            </>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
