'use client';

import { DEFAULT_CLASS_GUIDANCE } from '@dapple/models/config';
import { useRef, useState } from 'react';
import { ModelVersionFilesQuery } from '../../graphql/operations/models';
import { GenerateSamplesMutation, readSampleJob } from '../../graphql/operations/sampling';
import { request } from '../../lib/graphql';
import { useFormValues } from '../../lib/use-form-values';
import { FieldError, FormError, SelectField, TextField } from '../Field';
import { InterpolationPanel } from './InterpolationPanel';
import { ProgressBar } from './ProgressBar';
import { ImageGrid, SampleJobView, type SampleJob } from './SampleJobView';
import { SampleHistory } from './SampleHistory';
import {
  checkSettings,
  DEFAULT_SETTINGS,
  MAX_TEMPERATURE,
  PLAYGROUND_SAMPLERS,
  fieldOf,
  samplerKindOf,
  type CheckedSettings,
  type SamplingSettings,
  type SettingsErrors,
} from './sampling-form';
import type { BackendChoice, BackendInfo } from './sampling-protocol';
import styles from './models.module.css';
import { SubmitButton } from '../SubmitButton';
import { BusyButton } from '../BusyButton';

const BACKEND_LABELS: Record<string, string> = {
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'WebAssembly',
  cpu: 'JavaScript',
};

function seconds(s: number): string {
  return s < 90 ? `${Math.max(1, Math.round(s))} s` : `${Math.round(s / 60)} min`;
}

type BrowserState =
  | { kind: 'idle' }
  | {
      kind: 'running';
      stage: string;
      done: number;
      total: number;
      backend: BackendInfo | null;
      estimate: number | null;
      startedSampling: number | null;
    }
  | { kind: 'done'; urls: string[]; seconds: number; backend: BackendInfo | null }
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
  architecture = 'DDPM',
  shareToken = null,
  history = [],
}: {
  versionId: string;
  versionNumber: number;
  labelNames: readonly string[];
  /** A Glow version samples at a temperature in one pass: no steps, sampler, eta or guidance. */
  architecture?: 'DDPM' | 'GLOW';
  shareToken?: string | null;
  /** The signed-in caller's earlier server jobs on this version, newest first (none on a share link's page). */
  history?: readonly SampleJob[];
}) {
  const glow = architecture === 'GLOW';
  const { values: settings, errors, setErrors, set, bind } = useFormValues<SamplingSettings>(DEFAULT_SETTINGS);
  const [formError, setFormError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const [job, setJob] = useState<SampleJob | null>(null);
  const [browser, setBrowser] = useState<BrowserState>({ kind: 'idle' });
  const [backendChoice, setBackendChoice] = useState<BackendChoice>('auto');
  const abort = useRef<AbortController | null>(null);
  const formRef = useRef<HTMLFormElement | null>(null);

  function checked(): CheckedSettings | null {
    const result = checkSettings(settings, labelNames, architecture);
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
        seed: s.seed,
        label: s.label,
        ...(s.temperature !== null
          ? { temperature: s.temperature }
          : { steps: s.steps, sampler: s.sampler, eta: s.eta, guidance: s.guidance }),
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
    setBrowser({
      kind: 'running',
      stage: 'Asking for the model files…',
      done: 0,
      total: s.steps,
      backend: null,
      estimate: null,
      startedSampling: null,
    });
    const started = performance.now();
    const update = (patch: Partial<Extract<BrowserState, { kind: 'running' }>>) =>
      setBrowser((b) => (b.kind === 'running' ? { ...b, ...patch } : b));
    let backend: BackendInfo | null = null;
    try {
      const files = await request(ModelVersionFilesQuery, { id: versionId, shareToken });
      if (!files.ok) throw new Error(files.errors[0]?.message ?? 'Could not get the model files');
      const { sampleInBrowser } = await import('./browser-sampling');
      const urls = await sampleInBrowser({
        modelJsonUrl: files.data.modelVersion.files.modelJsonUrl,
        weightsUrl: files.data.modelVersion.files.weightsUrl,
        backend: backendChoice,
        count: s.count,
        steps: s.steps,
        sampler: samplerKindOf(s.sampler),
        eta: s.eta,
        seed: s.seed,
        label: s.label === null ? null : labelNames.indexOf(s.label),
        guidance: s.guidance,
        temperature: s.temperature,
        signal: controller.signal,
        onStage: (stage) => update({ stage }),
        onBackend: (b) => {
          backend = b;
          update({ backend: b });
        },
        onEstimate: (estimate) => update({ estimate, startedSampling: performance.now() }),
        onProgress: (done, total) => update({ done, total }),
      });
      setBrowser({ kind: 'done', urls, seconds: (performance.now() - started) / 1000, backend });
    } catch (err) {
      if (controller.signal.aborted) setBrowser({ kind: 'idle' });
      else setBrowser({ kind: 'failed', message: err instanceof Error ? err.message : String(err) });
    }
  }

  const browserRunning = browser.kind === 'running';
  const countField = <TextField label="Count" inputMode="numeric" {...bind('count')} hint="1–64" />;
  return (
    <section className="card" aria-labelledby="playground-heading">
      <div className="card-header">
        <div>
          <h2 id="playground-heading">Sampling playground</h2>
          <p className="muted">Version {versionNumber}. The same seed and settings give the same images.</p>
        </div>
      </div>
      <form ref={formRef} className={`card-body form ${styles.playgroundForm}`} onSubmit={generateOnServer} noValidate>
        <div className={styles.playgroundFields} data-testid="playground-fields">
          <TextField label="Seed" inputMode="numeric" {...bind('seed')} />
          {glow ? (
            // Count before Temperature, which takes two tracks (its slider and hint): Seed, Count and Temperature
            // fill a row of four or two rows of two. With Count after it, the two-track device select left the 4th
            // track of a row of four empty, and the hint in one track ran to three lines.
            <>
              {countField}
              <div className={styles.wideField}>
                <TemperatureField
                  value={settings.temperature}
                  onChange={(value) => set('temperature', value)}
                  error={errors.temperature}
                />
              </div>
            </>
          ) : (
            <>
              <TextField label="Steps" inputMode="numeric" {...bind('steps')} />
              <div className={styles.wideField}>
                <SelectField label="Sampler" {...bind('sampler')} options={PLAYGROUND_SAMPLERS} />
              </div>
              <TextField
                label="Eta"
                inputMode="decimal"
                {...bind('eta')}
                disabled={settings.sampler !== 'DDIM'}
                hint={settings.sampler === 'DDIM' ? '0 = deterministic' : 'DDIM only'}
              />
              {countField}
            </>
          )}
          {labelNames.length > 0 ? (
            <>
              <div className={styles.wideField}>
                <SelectField
                  label="Label"
                  {...bind('label')}
                  options={[
                    { value: '', label: 'Any (unconditional)' },
                    ...labelNames.map((name) => ({ value: name, label: name })),
                  ]}
                />
              </div>
              {glow ? null : (
                <TextField
                  label="Guidance"
                  inputMode="decimal"
                  placeholder={settings.label === '' ? '' : String(DEFAULT_CLASS_GUIDANCE)}
                  {...bind('guidance')}
                  hint={`0–20, needs a label · ${DEFAULT_CLASS_GUIDANCE} if empty`}
                />
              )}
            </>
          ) : null}
          <div className={styles.wideField}>
            <SelectField
              label="In-browser device"
              value={backendChoice}
              onChange={(e) => setBackendChoice(e.target.value as BackendChoice)}
              options={[
                { value: 'auto', label: 'Fastest available' },
                { value: 'webgpu', label: 'WebGPU' },
                { value: 'webgl', label: 'WebGL' },
                { value: 'wasm', label: 'WebAssembly (CPU)' },
              ]}
            />
          </div>
        </div>
        {formError ? <FormError>{formError}</FormError> : null}
        <div className={styles.actions}>
          <SubmitButton pending={pending}>Generate on server</SubmitButton>
          <BusyButton busy={browserRunning} onClick={() => void generateInBrowser()}>
            Generate in browser
          </BusyButton>
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
          {browser.kind === 'running' ? <BrowserProgress state={browser} /> : null}
          {browser.kind === 'failed' ? <FieldError>Browser sampling failed: {browser.message}</FieldError> : null}
          {browser.kind === 'done' ? (
            <>
              <p className="muted" role="status">
                {browser.urls.length} images in {browser.seconds.toFixed(1)} s on this device
                {browser.backend
                  ? ` with ${BACKEND_LABELS[browser.backend.name] ?? browser.backend.name} (${browser.backend.detail})`
                  : ''}
              </p>
              <ImageGrid urls={browser.urls} label="Browser sample" />
            </>
          ) : null}
        </div>
      ) : null}
      {/* A share link cannot read the training images (the hub refuses it): no section to fail in. */}
      {glow && !shareToken ? <InterpolationPanel versionId={versionId} /> : null}
      <SampleHistory
        jobs={history}
        onUse={(values) => {
          for (const key of Object.keys(values) as (keyof SamplingSettings)[]) set(key, values[key]);
          formRef.current?.scrollIntoView({ block: 'start', behavior: 'smooth' });
        }}
      />
    </section>
  );
}

/**
 * A Glow version's temperature: a slider with the number beside it (typed values are checked on sampling).
 * T scales the priors' standard deviations: below 1 cleaner, less varied samples; 1 the model as trained.
 */
function TemperatureField({
  value,
  onChange,
  error,
}: {
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
}) {
  const slider = Number(value);
  return (
    <div className="field" data-testid="temperature">
      <TextField
        label="Temperature"
        inputMode="decimal"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        error={error}
        hint="Below 1: cleaner, less varied. 1: as trained."
      />
      <input
        type="range"
        aria-label="Temperature slider"
        min={0.05}
        max={MAX_TEMPERATURE}
        step={0.05}
        value={Number.isFinite(slider) && slider > 0 ? Math.min(slider, MAX_TEMPERATURE) : 0.7}
        onChange={(e) => onChange(e.target.value)}
      />
    </div>
  );
}

/** Stage, backend, the estimate made before sampling started, and live progress with the time left. */
function BrowserProgress({ state }: { state: Extract<BrowserState, { kind: 'running' }> }) {
  const { backend, estimate, done, total, startedSampling } = state;
  const elapsed = startedSampling === null ? 0 : (performance.now() - startedSampling) / 1000;
  const left = done > 0 && total > done ? (elapsed / done) * (total - done) : null;
  return (
    <div data-testid="browser-progress" data-done={done} data-total={total} data-backend={backend?.name ?? ''}>
      {backend ? (
        <p className="muted" data-testid="browser-backend">
          Running on {BACKEND_LABELS[backend.name] ?? backend.name} ({backend.detail})
          {backend.tried.some((t) => !t.ok)
            ? `; skipped ${backend.tried
                .filter((t) => !t.ok)
                .map((t) => `${BACKEND_LABELS[t.name] ?? t.name}: ${t.reason}`)
                .join('; ')}`
            : ''}
        </p>
      ) : null}
      {estimate !== null ? (
        <p className="muted" data-testid="browser-estimate">
          Estimated {seconds(estimate)} for {total} steps (timed from one step)
          {left !== null ? ` · about ${seconds(left)} left` : ''}
        </p>
      ) : null}
      <ProgressBar label={`${state.stage} step ${done} of ${total}`} fraction={total ? done / total : 0} />
    </div>
  );
}
