'use client';

import { useEffect, useState } from 'react';
import {
  InterpolateDatasetImagesMutation,
  InterpolationSourceQuery,
  readSampleJob,
  TrainingImagesQuery,
} from '../../graphql/operations/sampling';
import type { ResultOf } from '../../graphql/tada';
import { request } from '../../lib/graphql';
import { useFormValues } from '../../lib/use-form-values';
import { FormError, TextField } from '../Field';
import { SampleJobView, type SampleJob } from './SampleJobView';
import styles from './models.module.css';
import { SubmitButton } from '../SubmitButton';

const MIN_FRAMES = 2;
const MAX_FRAMES = 16;

type TrainingImages = NonNullable<ResultOf<typeof TrainingImagesQuery>['datasetVersion']>;
type Fields = 'indexA' | 'indexB' | 'steps';

/**
 * A Glow version's interpolation: two images of the dataset version it was trained on (by index, with their
 * thumbnails when the caller may read that dataset), a frame count, and the strip decoded on the server between
 * their exact latents. Only members of the dataset's team get here with images; others see why not.
 */
export function InterpolationPanel({ versionId }: { versionId: string }) {
  const [images, setImages] = useState<TrainingImages | null>(null);
  const [unavailable, setUnavailable] = useState<string | null>(null);
  const { values, setErrors, bind } = useFormValues<Record<Fields, string>>({ indexA: '0', indexB: '1', steps: '8' });
  const [formError, setFormError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const [job, setJob] = useState<SampleJob | null>(null);

  useEffect(() => {
    let stale = false;
    void (async () => {
      const source = await request(InterpolationSourceQuery, { id: versionId });
      const datasetVersionId = source.ok ? source.data.modelVersion.datasetVersionId : null;
      if (!datasetVersionId) {
        if (!stale) setUnavailable('The dataset version this model was trained on is not on this hub.');
        return;
      }
      const training = await request(TrainingImagesQuery, { id: datasetVersionId });
      if (stale) return;
      if (training.ok) setImages(training.data.datasetVersion);
      else setUnavailable('Interpolation shows training images, and you cannot read this model’s training dataset.');
    })();
    return () => {
      stale = true;
    };
  }, [versionId]);

  function parse(): Record<Fields, number> | null {
    const out: Partial<Record<Fields, number>> = {};
    const bad: Partial<Record<Fields, string>> = {};
    const count = images?.acceptedCount ?? Infinity;
    for (const key of ['indexA', 'indexB'] as const) {
      const n = Number(values[key]);
      if (!/^\d+$/.test(values[key].trim()) || n >= count)
        bad[key] = `An image index from 0 to ${Number.isFinite(count) ? count - 1 : '…'}`;
      else out[key] = n;
    }
    const steps = Number(values.steps);
    if (!/^\d+$/.test(values.steps.trim()) || steps < MIN_FRAMES || steps > MAX_FRAMES)
      bad.steps = `A whole number from ${MIN_FRAMES} to ${MAX_FRAMES}`;
    else out.steps = steps;
    setErrors(bad);
    return Object.keys(bad).length ? null : (out as Record<Fields, number>);
  }

  async function run(event: React.FormEvent) {
    event.preventDefault();
    setFormError(null);
    const p = parse();
    if (!p) return;
    setPending(true);
    const result = await request(InterpolateDatasetImagesMutation, { input: { modelVersionId: versionId, ...p } });
    setPending(false);
    if (!result.ok) {
      const byField: Partial<Record<Fields, string>> = {};
      const other: string[] = [];
      for (const e of result.errors) {
        if (e.field === 'indexA' || e.field === 'indexB' || e.field === 'steps') byField[e.field] = e.message;
        else other.push(e.message);
      }
      setErrors(byField);
      setFormError(other.length ? other.join(' ') : null);
      return;
    }
    setJob(readSampleJob(result.data.interpolateDatasetImages));
  }

  return (
    <div className="card-body" aria-labelledby="interpolate-heading" data-testid="interpolation">
      <h3 id="interpolate-heading">Interpolate</h3>
      <p className="muted">
        The frames between two training images along the straight line between their exact Glow latents; the first and
        last frames are the two images.
      </p>
      {unavailable ? (
        <p className="muted" role="status">
          {unavailable}
        </p>
      ) : (
        <form className="form" onSubmit={run} noValidate>
          <div className={styles.interpolationFields}>
            {(['indexA', 'indexB'] as const).map((key) => (
              <div key={key} className="field">
                <TextField
                  label={key === 'indexA' ? 'First image' : 'Last image'}
                  inputMode="numeric"
                  {...bind(key)}
                  hint={images ? `Index 0–${images.acceptedCount - 1}` : 'Index in the training dataset'}
                />
                {images ? <Thumbnail images={images} index={Number(values[key])} /> : null}
              </div>
            ))}
            <TextField
              label="Frames"
              inputMode="numeric"
              {...bind('steps')}
              hint={`${MIN_FRAMES}–${MAX_FRAMES}, both ends included`}
            />
          </div>
          {formError ? <FormError>{formError}</FormError> : null}
          <div className={styles.actions}>
            <SubmitButton pending={pending}>Interpolate on server</SubmitButton>
          </div>
        </form>
      )}
      {job ? <SampleJobView key={job.id} initial={job} shareToken={null} /> : null}
    </div>
  );
}

/** Image `index` cut from the dataset version's thumbnail sheets (tile i % perSheet of sheet ⌊i / perSheet⌋). */
function Thumbnail({ images, index }: { images: TrainingImages; index: number }) {
  const t = images.thumbnails;
  if (!t || !Number.isInteger(index) || index < 0 || index >= images.acceptedCount) return null;
  const sheet = t.sheetUrls[Math.floor(index / t.perSheet)];
  if (!sheet) return null;
  const k = index % t.perSheet;
  const size = 48;
  const scale = size / t.tile;
  return (
    <span
      className={styles.thumb}
      role="img"
      aria-label={`Training image ${index}`}
      style={{
        width: size,
        height: size,
        backgroundImage: `url(${JSON.stringify(sheet)})`,
        backgroundSize: `${t.columns * size}px auto`,
        backgroundPosition: `-${(k % t.columns) * t.tile * scale}px -${Math.floor(k / t.columns) * t.tile * scale}px`,
      }}
    />
  );
}
