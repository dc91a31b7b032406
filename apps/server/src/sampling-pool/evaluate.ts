/**
 * The compute of one evaluation, run inside a sampling worker thread (never on the hub's event loop):
 * generate numSamples images in batches (same noise streams as one big request), stream as many real
 * images from the dataset version's shards, extract features/probabilities with the configured
 * extractor, then KID (mean ± std over subsets), FID, and IS of the samples (and of the real images,
 * as the ceiling to read it against).
 */
import * as tf from '@tensorflow/tfjs';
import { specImages } from '@dapple/models/browser/index';
import { parseManifest, ShardReader, toFloatImages } from '@dapple/datasets';
import { fid } from '@dapple/models/metrics/fid';
import { inceptionScore } from '@dapple/models/metrics/inception-score';
import { kernelInceptionDistance } from '@dapple/models/metrics/kid';
import type { EvaluationExtractor } from '@dapple/models/metrics/extractors/index';
import type { ModelSampler } from '@dapple/models/browser/index';
import type { EvaluateTask, EvaluationResult } from './protocol.ts';

const BATCH = 32;

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export async function runEvaluation(
  sampler: ModelSampler,
  extractor: EvaluationExtractor,
  task: EvaluateTask,
  read: (key: string) => Promise<Uint8Array>,
  onProgress: (done: number, total: number) => void,
  signal: AbortSignal,
): Promise<EvaluationResult> {
  const n = task.numSamples;
  const total = 2 * n;
  const { resolution: r, channels: c } = specImages(sampler.spec);
  const fakeFeatures: Float32Array[] = [];
  const fakeProbs: Float32Array[] = [];
  for (let start = 0; start < n; start += BATCH) {
    const count = Math.min(BATCH, n - start);
    const { pixels } = await sampler.sample({
      count,
      steps: task.steps,
      sampler: task.sampler,
      eta: task.eta,
      seed: task.seed,
      firstImageIndex: start,
      signal,
    });
    const images = tf.tensor4d(toFloatImages(pixels), [count, r, r, c]);
    const out = await extractor.extract(images);
    images.dispose();
    fakeFeatures.push(out.features);
    fakeProbs.push(out.probabilities);
    onProgress(start + count, total);
  }

  const manifest = parseManifest(task.dataset.manifest);
  if (manifest.resolution !== r || manifest.channels !== c) {
    throw new Error(
      `dataset images are ${manifest.resolution}×${manifest.resolution}×${manifest.channels}, the model makes ${r}×${r}×${c}`,
    );
  }
  const reader = new ShardReader({
    manifest,
    batchSize: BATCH,
    epochs: 1,
    seed: task.seed,
    open: async (name) => {
      const bytes = await read(`${task.dataset.prefix}${name}`);
      return (async function* () {
        yield bytes;
      })();
    },
  });
  const realFeatures: Float32Array[] = [];
  const realProbs: Float32Array[] = [];
  let real = 0;
  for await (const batch of reader) {
    if (signal.aborted) throw new Error('evaluation aborted');
    const take = Math.min(batch.size, n - real);
    const per = batch.height * batch.width * batch.channels;
    const images = tf.tensor4d(toFloatImages(batch.images.subarray(0, take * per)), [
      take,
      batch.height,
      batch.width,
      batch.channels,
    ]);
    const out = await extractor.extract(images);
    images.dispose();
    realFeatures.push(out.features);
    realProbs.push(out.probabilities);
    real += take;
    onProgress(n + real, total);
    if (real >= n) break;
  }
  if (real < n) throw new Error(`the dataset version has ${real} images; the evaluation needs ${n}`);

  const fake = concat(fakeFeatures);
  const realF = concat(realFeatures);
  const splits = Math.max(1, Math.min(10, Math.floor(n / 2)));
  const kid = kernelInceptionDistance(fake, realF, extractor.dims, {
    subsetSize: Math.min(1000, n),
    numSubsets: 100,
    seed: task.seed,
  });
  return {
    extractor: extractor.name,
    paperComparable: extractor.paperComparable,
    numSamples: n,
    kid: { mean: kid.mean, std: kid.std, subsetSize: kid.subsetSize, numSubsets: kid.numSubsets },
    fid: fid(fake, realF, extractor.dims),
    inceptionScore: inceptionScore(concat(fakeProbs), extractor.numClasses, { splits }),
    realInceptionScore: inceptionScore(concat(realProbs), extractor.numClasses, { splits }),
  };
}
