/**
 * The compute of one evaluation, run inside a sampling worker thread (never on the hub's event loop):
 * load (or train) the dataset version's classifier, generate numSamples images in batches (same noise
 * streams as one big request; a conditional model's samples spread evenly over its classes, with the
 * chosen guidance), stream as many real images from the dataset version's shards, extract features (and
 * class probabilities) with the configured extractor, then KID (mean ± std over subsets that differ),
 * FID and, when the extractor has a class head, IS; with the classifier the classification accuracy of
 * the samples (overall and per class) and the dataset-specific IS.
 */
import * as tf from '@tensorflow/tfjs';
import { specImages, type ModelSampler } from '@dapple/models/browser';
import { parseManifest, ShardReader, toFloatImages } from '@dapple/datasets';
import { evaluationNumbers, inceptionScoreSplits, inceptionScore, sampleClassAccuracy } from '@dapple/models';
import type { EvaluationExtractor } from '@dapple/models/extractors';
import { datasetClassifierFor, type ReadyClassifier } from './eval-classifier.ts';
import { interleavedOrder, labelBlocks, permuteRows } from './label-order.ts';
import type { ClassifierResult, EvaluateTask, EvaluationResult, ProgressListener } from './protocol.ts';

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
  onProgress: ProgressListener,
  signal: AbortSignal,
): Promise<EvaluationResult> {
  const n = task.numSamples;
  const total = 2 * n;
  const { resolution: r, channels: c } = specImages(sampler.spec);
  const manifest = parseManifest(task.dataset.manifest);
  if (manifest.resolution !== r || manifest.channels !== c) {
    throw new Error(
      `dataset images are ${manifest.resolution}×${manifest.resolution}×${manifest.channels}, the model makes ${r}×${r}×${c}`,
    );
  }
  let classifier: ReadyClassifier | null = null;
  try {
    if (task.classifier) {
      onProgress(0, total, 'classifier');
      classifier = await datasetClassifierFor(task, task.classifier, read, signal);
    }
    onProgress(0, total, 'generating');
    const fakeFeatures: Float32Array[] = [];
    const fakeProbs: Float32Array[] = [];
    const fakeClassProbs: Float32Array[] = [];
    const intended: number[] = [];
    const blocks = labelBlocks(n, task.labels);
    for (const [label, first, count] of blocks) {
      for (let start = first; start < first + count; start += BATCH) {
        const m = Math.min(BATCH, first + count - start);
        const { pixels } = await sampler.sample({
          count: m,
          steps: task.steps,
          sampler: task.sampler,
          eta: task.eta,
          seed: task.seed,
          firstImageIndex: start,
          ...(label !== null ? { label, guidance: task.guidance } : {}),
          signal,
          // A batch's images count in proportion to its denoising steps: a batch of 32 at 50 steps is a while.
          onProgress: (step, steps) => onProgress(start + Math.floor((m * step) / steps), total, 'generating'),
        });
        const images = tf.tensor4d(toFloatImages(pixels), [m, r, r, c]);
        try {
          const out = await extractor.extract(images);
          fakeFeatures.push(out.features);
          fakeProbs.push(out.probabilities);
          if (classifier) fakeClassProbs.push(await classifier.model.probabilities(images));
        } finally {
          images.dispose();
        }
        if (label !== null) for (let i = 0; i < m; i++) intended.push(label);
        onProgress(start + m, total, 'generating');
      }
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
    const realClassProbs: Float32Array[] = [];
    let real = 0;
    onProgress(n, total, 'measuring');
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
      try {
        const out = await extractor.extract(images);
        realFeatures.push(out.features);
        realProbs.push(out.probabilities);
        if (classifier) realClassProbs.push(await classifier.model.probabilities(images));
      } finally {
        images.dispose();
      }
      real += take;
      onProgress(n + real, total, 'measuring');
      if (real >= n) break;
    }
    if (real < n) throw new Error(`the dataset version has ${real} images; the evaluation needs ${n}`);

    // Samples were made label by label: interleave them so that IS splits each hold every label (label-order.ts).
    const order = interleavedOrder(blocks);
    const mixed = (parts: Float32Array[], width: number) => permuteRows(concat(parts), width, order);
    const intendedMixed = intended.length === n ? order.map((i) => intended[i]!) : intended;
    const numbers = evaluationNumbers({
      fakeFeatures: mixed(fakeFeatures, extractor.dims),
      realFeatures: concat(realFeatures),
      dims: extractor.dims,
      ...(extractor.numClasses > 0
        ? { fakeProbabilities: mixed(fakeProbs, extractor.numClasses), realProbabilities: concat(realProbs) }
        : {}),
      numClasses: extractor.numClasses,
      seed: task.seed,
    });
    const kid = numbers.kid;
    return {
      extractor: extractor.name,
      paperComparable: extractor.paperComparable,
      numSamples: n,
      kid: {
        mean: kid.mean,
        std: kid.std,
        subsetSize: kid.subsetSize,
        numSubsets: kid.numSubsets,
        subsetsDiffer: kid.subsetsDiffer,
      },
      fid: numbers.fid,
      inceptionScore: numbers.inceptionScore,
      realInceptionScore: numbers.realInceptionScore,
      classifier: classifier
        ? classifierResult(
            classifier,
            task,
            mixed(fakeClassProbs, classifier.model.numClasses),
            concat(realClassProbs),
            intendedMixed,
          )
        : null,
    };
  } finally {
    classifier?.model.dispose();
  }
}

function classifierResult(
  classifier: ReadyClassifier,
  task: EvaluateTask,
  fake: Float32Array,
  real: Float32Array,
  intendedModelLabels: number[],
): ClassifierResult {
  const k = classifier.model.numClasses;
  const splits = inceptionScoreSplits(task.numSamples);
  const datasetClassOf = task.classifier!.datasetClassOf;
  // Accuracy needs every sampled model class to be a class of this dataset (same name).
  const mapped = intendedModelLabels.map((l) => datasetClassOf[l] ?? null);
  const comparable = intendedModelLabels.length === task.numSamples && mapped.every((l) => l !== null);
  let sampleAccuracy: ClassifierResult['sampleAccuracy'] = null;
  if (comparable) {
    const acc = sampleClassAccuracy(fake, mapped, k);
    sampleAccuracy = {
      accuracy: acc.accuracy,
      chance: acc.chance,
      // Back to the model's class ids, for the classes that were sampled.
      perClass: task.labels.map((label) => {
        const row = acc.perClass[datasetClassOf[label]!]!;
        return { label, count: row.count, correct: row.correct, accuracy: row.accuracy };
      }),
    };
  }
  return {
    name: classifier.model.name,
    heldOutAccuracy: classifier.model.heldOutAccuracy,
    trained: classifier.trained,
    ...(classifier.files ? { files: classifier.files } : {}),
    datasetInceptionScore: inceptionScore(fake, k, { splits }),
    realDatasetInceptionScore: inceptionScore(real, k, { splits }),
    sampleAccuracy,
  };
}
