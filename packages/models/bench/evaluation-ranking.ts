/**
 * `npx tsx bench/evaluation-ranking.ts [n] [out.jsonl]`: does the evaluation rank image sets correctly?
 * On colour icons and digits drawn here (seeded), compares a real set against another real sample, the
 * same kind of images upside down, slightly noised (σ = 0.1), n copies of the mean image and untrained
 * noise, with the old offline extractor (before) and the pretrained MobileNetV2 extractor (after): KID
 * (mean ± std over subsets of n/2) and FID; and the dataset classifier (trained here on 800 real images)
 * gives each set's classification accuracy (against the labels the images were drawn for) and
 * dataset-specific IS, beside the offline extractor's random-head IS. One JSON line per dataset ×
 * extractor × set; `ratioToReal` divides by the real-vs-real KID spread (the baseline measured in the
 * same run). Prints the machine's load average: other jobs share this machine, so times are indicative.
 */
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend.ts';
import { trainDatasetClassifier, sampleClassAccuracy } from '../src/metrics/dataset-classifier.ts';
import { loadPretrainedExtractor } from '../src/metrics/extractors/mobilenet-v2.ts';
import { offlineExtractor } from '../src/metrics/extractors/offline.ts';
import type { EvaluationExtractor } from '../src/metrics/extractors/types.ts';
import { fid } from '../src/metrics/fid.ts';
import { inceptionScore } from '../src/metrics/inception-score.ts';
import { kernelInceptionDistance } from '../src/metrics/kid.ts';
import {
  flipUpsideDown,
  meanImage,
  noiseImages,
  syntheticDigits,
  syntheticIcons,
  withPixelNoise,
  type SyntheticImages,
} from '../src/metrics/synthetic-images.ts';

const n = Number(process.argv[2] ?? 200);
const out = process.argv[3];
const size = 24;
const report = await selectBackend({ prefer: 'wasm' });
const load = () => loadavg().map((v) => +v.toFixed(2));
const emit = (line: Record<string, unknown>) => {
  const text = JSON.stringify({
    bench: 'evaluation.ranking',
    backend: report.backend,
    n,
    size,
    ...line,
    loadavg: load(),
  });
  console.log(text);
  if (out) appendFileSync(out, text + '\n');
};

const tensor = (pixels: Float32Array) => tf.tensor4d(pixels, [pixels.length / (size * size * 3), size, size, 3]);

for (const [dataset, make] of [
  ['icons', syntheticIcons],
  ['digits', syntheticDigits],
] as const) {
  const real = make(n, size, 1);
  const mean = meanImage(real);
  const copies = (image: Float32Array) => {
    const all = new Float32Array(n * image.length);
    for (let i = 0; i < n; i++) all.set(image, i * image.length);
    return all;
  };
  // Each set with the labels its images were drawn for (noise and mean copies: the real set's labels,
  // as a model that ignores its label would be asked for them).
  const sets: [string, Float32Array, Int32Array][] = [
    ['real (another sample)', make(n, size, 2).pixels, make(n, size, 2).labels],
    ['upside down', flipUpsideDown(make(n, size, 3)).pixels, make(n, size, 3).labels],
    ['slightly noised (σ=0.1)', withPixelNoise(make(n, size, 4), 0.1, 5).pixels, make(n, size, 4).labels],
    ['mean image ×n', copies(mean), real.labels],
    ['untrained noise', noiseImages(n, size, 6), real.labels],
  ];

  const cpu0 = process.cpuUsage();
  const train: SyntheticImages = make(800, size, 11);
  const trainImages = tensor(train.pixels);
  const { model: classifier, heldOutAccuracy } = await trainDatasetClassifier(trainImages, train.labels, {
    steps: 250,
    seed: 0,
  });
  trainImages.dispose();
  const trainCpu = process.cpuUsage(cpu0);
  emit({
    dataset,
    classifier: classifier.name,
    heldOutAccuracy,
    trainCpuSeconds: +((trainCpu.user + trainCpu.system) / 1e6).toFixed(1),
  });
  const classify = async (pixels: Float32Array, labels: Int32Array) => {
    const images = tensor(pixels);
    const probs = await classifier.probabilities(images);
    images.dispose();
    return {
      sampleAccuracy: +sampleClassAccuracy(probs, labels, classifier.numClasses).accuracy.toFixed(3),
      datasetIS: +inceptionScore(probs, classifier.numClasses, { splits: 5 }).mean.toFixed(2),
    };
  };
  emit({ dataset, set: 'real (reference)', ...(await classify(real.pixels, real.labels)) });

  for (const [label, extractor] of [
    ['before: offline', offlineExtractor()],
    ['after: pretrained', await loadPretrainedExtractor()],
  ] as [string, EvaluationExtractor][]) {
    const c0 = process.cpuUsage();
    const extract = async (pixels: Float32Array) => {
      const images = tensor(pixels);
      const r = await extractor.extract(images);
      images.dispose();
      return r;
    };
    const ref = await extract(real.pixels);
    const isOf = (p: Float32Array) =>
      extractor.numClasses > 0 ? +inceptionScore(p, extractor.numClasses, { splits: 5 }).mean.toFixed(2) : null;
    let baseline = 0;
    for (const [name, pixels, labels] of sets) {
      const r = await extract(pixels);
      const kid = kernelInceptionDistance(ref.features, r.features, extractor.dims, { seed: 1 });
      if (name.startsWith('real')) baseline = kid.std;
      emit({
        dataset,
        extractor: extractor.name,
        label,
        set: name,
        kid: +kid.mean.toFixed(5),
        kidStd: +kid.std.toFixed(5),
        kidSubsetSize: kid.subsetSize,
        ratioToReal: +(kid.mean / baseline).toFixed(1),
        fid: +fid(ref.features, r.features, extractor.dims).toFixed(2),
        extractorIS: isOf(r.probabilities),
        extractorISofReal: isOf(ref.probabilities),
        ...(label.startsWith('after') ? await classify(pixels, labels) : {}),
      });
    }
    const c = process.cpuUsage(c0);
    emit({ dataset, extractor: extractor.name, cpuSeconds: +((c.user + c.system) / 1e6).toFixed(1) });
    extractor.dispose();
  }
  classifier.dispose();
}
