import * as tf from '@tensorflow/tfjs';
import { conv2d } from '../nn/conv.ts';
import { Rng } from '../rng.ts';

/**
 * A small classifier trained on one dataset version's labelled images, to tell what class a generated
 * image shows (classification accuracy of conditional samples) and how confidently and evenly samples
 * fall into the dataset's classes (dataset-specific Inception Score). Three 3×3 convs (32, 64, 64
 * channels; strides 1, 2, 2; ReLU), global average pooling and a linear layer to the classes, on images
 * resized to at most 32 px. Trained with Adam on seeded mini-batches for a fixed number of steps, so the
 * same images, labels, seed and backend give the same weights; the convs use nn/conv.ts, whose gradient
 * works on wasm (which has no Conv2DBackpropFilter kernel).
 */
export interface DatasetClassifier {
  /** Side images are resized to before the network (bilinear). */
  inputSize: number;
  channels: number;
  numClasses: number;
  /** Accuracy on the images held out of training (0–1), as measured when it was trained. */
  heldOutAccuracy: number;
  /** Name and configuration, for comparability keys: numbers from different classifiers are not comparable. */
  name: string;
  /** images [n, h, w, channels] in [-1, 1] → row-major n×numClasses softmax probabilities. Does not dispose `images`. */
  probabilities(images: tf.Tensor4D): Promise<Float32Array>;
  /** Writes the weights and configuration through an IOHandler (e.g. to the hub's object store). */
  save(handler: tf.io.IOHandler): Promise<void>;
  dispose(): void;
}

export interface TrainDatasetClassifierOptions {
  /** Number of classes; default max(label) + 1. */
  numClasses?: number;
  /** Seed of the initial weights, the held-out split and the batch order; default 0. */
  seed?: number;
  /** Optimiser steps: the CPU budget (deterministic, unlike a time limit); default 300. */
  steps?: number;
  /** Images per step; default 64. */
  batchSize?: number;
  /** Adam learning rate; default 3e-3. */
  learningRate?: number;
  /** Share of the images held out to measure accuracy; default 0.2. */
  heldOutFraction?: number;
}

const FORMAT = 'dapple-dataset-classifier-v1';
const WIDTHS = [32, 64, 64] as const;
const STRIDES = [1, 2, 2] as const;
const MAX_INPUT = 32;

interface Config {
  inputSize: number;
  channels: number;
  numClasses: number;
  heldOutAccuracy: number;
  trainedOn: { images: number; steps: number; seed: number };
}

type Weights = Record<string, tf.Tensor>;

function weightShapes(channels: number, numClasses: number): [string, number[]][] {
  const shapes: [string, number[]][] = [];
  let cin = channels;
  WIDTHS.forEach((cout, l) => {
    shapes.push([`conv${l}/kernel`, [3, 3, cin, cout]], [`conv${l}/bias`, [cout]]);
    cin = cout;
  });
  shapes.push(['dense/kernel', [cin, numClasses]], ['dense/bias', [numClasses]]);
  return shapes;
}

function nameOf(config: Config): string {
  const t = config.trainedOn;
  return `dataset-classifier-v1(${config.inputSize}px,c=${config.channels},k=${config.numClasses},seed=${t.seed},steps=${t.steps},n=${t.images})`;
}

function toInput(images: tf.Tensor4D, size: number): tf.Tensor4D {
  return images.shape[1] === size && images.shape[2] === size
    ? images
    : tf.image.resizeBilinear(images, [size, size], false, true);
}

function logits(w: Weights, x: tf.Tensor4D): tf.Tensor2D {
  let h = x;
  WIDTHS.forEach((_, l) => {
    h = tf.relu(conv2d(h, w[`conv${l}/kernel`] as tf.Tensor4D, w[`conv${l}/bias`] as tf.Tensor1D, STRIDES[l]));
  });
  const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
  return tf.add(tf.matMul(pooled, w['dense/kernel'] as tf.Tensor2D), w['dense/bias']!) as tf.Tensor2D;
}

function makeClassifier(weights: Weights, config: Config): DatasetClassifier {
  const { inputSize, channels, numClasses } = config;
  return {
    inputSize,
    channels,
    numClasses,
    heldOutAccuracy: config.heldOutAccuracy,
    name: nameOf(config),
    async probabilities(images) {
      if (images.rank !== 4 || images.shape[3] !== channels)
        throw new RangeError(
          `classifier: images must be [n, h, w, ${channels}] (the dataset's channels), got [${images.shape.join(', ')}]`,
        );
      const n = images.shape[0];
      const out = new Float32Array(n * numClasses);
      for (let start = 0; start < n; start += 256) {
        const m = Math.min(256, n - start);
        const p = tf.tidy(() =>
          tf.softmax(logits(weights, toInput(images.slice([start, 0, 0, 0], [m, -1, -1, -1]), inputSize))),
        );
        out.set(await p.data(), start * numClasses);
        p.dispose();
      }
      return out;
    },
    async save(handler) {
      if (!handler.save) throw new Error('the IOHandler cannot save');
      const { data, specs } = await tf.io.encodeWeights(weights);
      await handler.save({
        modelTopology: { format: FORMAT, ...config },
        format: FORMAT,
        generatedBy: 'dapple @dapple/models',
        weightSpecs: specs,
        weightData: data,
      });
    },
    dispose() {
      tf.dispose(Object.values(weights));
    },
  };
}

/** Loads a classifier written by DatasetClassifier.save. */
export async function loadDatasetClassifier(handler: tf.io.IOHandler): Promise<DatasetClassifier> {
  if (!handler.load) throw new Error('the IOHandler cannot load');
  const artifacts = await handler.load();
  const topology = artifacts.modelTopology as (Partial<Config> & { format?: unknown }) | undefined;
  if (topology?.format !== FORMAT) throw new Error(`not a dataset classifier (format ${String(topology?.format)})`);
  const config = topology as Config;
  if (!artifacts.weightSpecs || !artifacts.weightData) throw new Error('dataset classifier: no weights');
  const decoded = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
  for (const [name, shape] of weightShapes(config.channels, config.numClasses)) {
    const t = decoded[name];
    if (!t || t.shape.join() !== shape.join()) {
      tf.dispose(Object.values(decoded));
      throw new Error(`dataset classifier: weight ${name} is missing or not [${shape.join(', ')}]`);
    }
  }
  return makeClassifier(decoded, config);
}

/**
 * Trains the classifier on labelled images [n, h, w, c] in [-1, 1] (any h = w; resized to ≤ 32 px),
 * holding out a seeded share to measure accuracy. Returns the classifier (as `model`) and that accuracy.
 */
export async function trainDatasetClassifier(
  images: tf.Tensor4D,
  labels: ArrayLike<number>,
  options: TrainDatasetClassifierOptions = {},
): Promise<{ model: DatasetClassifier; heldOutAccuracy: number }> {
  const [n, height, width, channels] = images.shape;
  if (height !== width) throw new RangeError(`images must be square, got ${height}×${width}`);
  if (labels.length !== n) throw new RangeError(`labels: ${labels.length} labels for ${n} images`);
  let maxLabel = 0;
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0) throw new RangeError(`labels[${i}] must be an integer ≥ 0, got ${l}`);
    maxLabel = Math.max(maxLabel, l);
  }
  const numClasses = options.numClasses ?? maxLabel + 1;
  if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses <= maxLabel)
    throw new RangeError(`numClasses must be an integer ≥ 2 above every label, got ${numClasses}`);
  const seed = options.seed ?? 0;
  const steps = options.steps ?? 300;
  const batchSize = Math.min(options.batchSize ?? 64, n);
  const learningRate = options.learningRate ?? 3e-3;
  const heldOutFraction = options.heldOutFraction ?? 0.2;
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
  if (!(heldOutFraction > 0 && heldOutFraction < 1))
    throw new RangeError(`heldOutFraction must be in (0, 1), got ${heldOutFraction}`);
  const heldOut = Math.max(1, Math.round(n * heldOutFraction));
  if (n - heldOut < 2) throw new RangeError(`need at least ${heldOut + 2} images, got ${n}`);

  const rng = new Rng(seed);
  const order = rng.permutation(n);
  const testIdx = order.slice(0, heldOut);
  const trainIdx = order.slice(heldOut);
  const inputSize = Math.min(MAX_INPUT, height);
  const weights: Weights = {};
  const init = rng.fork(1);
  for (const [name, shape] of weightShapes(channels, numClasses)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 1 ? 1 : shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const values =
      shape.length === 1
        ? new Float32Array(size)
        : init.normalArray(size).map((v) => v * Math.sqrt((name.startsWith('dense') ? 1 : 2) / fanIn));
    const initial = tf.tensor(values, shape);
    weights[name] = tf.variable(initial, true);
    initial.dispose();
  }
  const variables = Object.values(weights) as tf.Variable[];
  const optimizer = tf.train.adam(learningRate);
  const inputs = tf.tidy(() => toInput(images, inputSize));
  const labelTensor = tf.tensor1d(Int32Array.from(labels), 'int32');
  const batchOrder = rng.fork(2);
  try {
    let epoch = batchOrder.permutation(trainIdx.length);
    let cursor = 0;
    for (let step = 0; step < steps; step++) {
      if (cursor + batchSize > epoch.length) {
        epoch = batchOrder.permutation(trainIdx.length);
        cursor = 0;
      }
      const batch = Int32Array.from(epoch.subarray(cursor, cursor + batchSize), (i) => trainIdx[i]!);
      cursor += batchSize;
      tf.tidy(() => {
        const idx = tf.tensor1d(batch, 'int32');
        const x = tf.gather(inputs, idx) as tf.Tensor4D;
        const y = tf.oneHot(tf.gather(labelTensor, idx), numClasses);
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, logits(weights, x)) as tf.Scalar, false, variables);
      });
    }
    const config: Config = {
      inputSize,
      channels,
      numClasses,
      heldOutAccuracy: 0,
      trainedOn: { images: n - heldOut, steps, seed },
    };
    // Plain tensors from here on: the classifier is for inference.
    const frozen: Weights = {};
    for (const [name, v] of Object.entries(weights)) frozen[name] = tf.clone(v);
    const testImages = tf.tidy(() => tf.gather(images, tf.tensor1d(testIdx, 'int32')) as tf.Tensor4D);
    const probs = await makeClassifier(frozen, config).probabilities(testImages);
    testImages.dispose();
    let correct = 0;
    testIdx.forEach((i, r) => {
      if (argMax(probs, r, numClasses) === labels[i]) correct++;
    });
    config.heldOutAccuracy = correct / heldOut;
    return { model: makeClassifier(frozen, config), heldOutAccuracy: config.heldOutAccuracy };
  } finally {
    optimizer.dispose();
    // toInput returns the caller's tensor itself when no resize is needed: that one is not ours to free.
    tf.dispose([...(inputs === images ? [] : [inputs]), labelTensor, ...variables]);
  }
}

function argMax(probs: ArrayLike<number>, row: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (probs[row * k + c]! > probs[row * k + best]!) best = c;
  return best;
}

export interface SampleClassAccuracy {
  /** Share of samples classified as the class they were generated for (0–1). */
  accuracy: number;
  /** 1 / numClasses: what a model that ignores its label scores on balanced labels. */
  chance: number;
  perClass: { label: number; count: number; correct: number; accuracy: number }[];
  /** Which class the samples of each intended class were classified as: confusion[intended][predicted]. */
  confusion: number[][];
}

/**
 * Classification accuracy of conditional samples: how often the classifier sees the class each image
 * was generated for (`intendedLabels[i]` for image i), overall and per class, with the confusion matrix.
 * Classes with no samples get accuracy NaN.
 */
export function sampleClassAccuracy(
  probabilities: ArrayLike<number>,
  intendedLabels: ArrayLike<number>,
  numClasses: number,
): SampleClassAccuracy {
  const n = intendedLabels.length;
  if (probabilities.length !== n * numClasses)
    throw new RangeError(`probabilities: expected ${n}×${numClasses} values, got ${probabilities.length}`);
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const intended = intendedLabels[i]!;
    if (!Number.isInteger(intended) || intended < 0 || intended >= numClasses)
      throw new RangeError(`intendedLabels[${i}] must be an integer in [0, ${numClasses}), got ${intended}`);
    const predicted = argMax(probabilities, i, numClasses);
    confusion[intended]![predicted]!++;
    if (predicted === intended) correct++;
  }
  const perClass = confusion.map((row, label) => {
    const count = row.reduce((a, b) => a + b, 0);
    return { label, count, correct: row[label]!, accuracy: count > 0 ? row[label]! / count : NaN };
  });
  return { accuracy: n > 0 ? correct / n : NaN, chance: 1 / numClasses, perClass, confusion };
}
