// Node-only (reads the weights from node_modules through nsfwjs-files.ts).
import type { EvaluationExtractor } from './types.ts';
import { nsfwjsMobileNetV2Handler, nsfwjsVersion } from './nsfwjs-files.ts';
import { loadKerasFeatureExtractor } from './pretrained.ts';

export interface PretrainedExtractorOptions {
  /** Side images are upsampled to before the network; default 128: 3–4× cheaper than its training size 224 on CPU (see docs/evaluation.md). A multiple of 32. */
  inputSize?: number;
  /** Images per forward pass; default 16. */
  batchSize?: number;
}

/** MobileNetV2's last conv block (1280 channels, after ReLU6): the layer its own classifier pools. */
const FEATURE_LAYER = 'out_relu';
const DIMS = 1280;

function inputSizeOf(options: PretrainedExtractorOptions): number {
  const size = options.inputSize ?? 128;
  if (!Number.isInteger(size) || size < 32 || size % 32 !== 0)
    throw new RangeError(`pretrained extractor: inputSize must be a multiple of 32, got ${size}`);
  return size;
}

/**
 * The name loadPretrainedExtractor(options) reports, without loading anything: network, the package
 * (and version) whose weights it uses, the feature layer, feature size, input size and resize.
 */
export function pretrainedExtractorName(options: PretrainedExtractorOptions = {}): string {
  return `pretrained:mobilenet-v2(nsfwjs@${nsfwjsVersion()})/gap(${FEATURE_LAYER})(dims=${DIMS},${inputSizeOf(options)}px,bilinear)`;
}

/**
 * The default evaluation extractor: a pretrained MobileNetV2 whose weights ship inside the `nsfwjs` npm
 * package (so it installs with `npm ci` and loads with no network). Features for FID/KID are the spatial
 * mean of its last conv block (1280-d), as FID uses InceptionV3's pool3. Its head classifies 5 content
 * categories, not ImageNet, so it gives no Inception Score (numClasses 0): IS comes from the dataset
 * classifier (dataset-classifier.ts) or from InceptionV3.
 */
export async function loadPretrainedExtractor(options: PretrainedExtractorOptions = {}): Promise<EvaluationExtractor> {
  const inputSize = inputSizeOf(options);
  return loadKerasFeatureExtractor(nsfwjsMobileNetV2Handler(), {
    featureLayers: [{ layer: FEATURE_LAYER, grid: [1, 1] }],
    inputSize,
    inputRange: '[0,1]',
    ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    name: pretrainedExtractorName(options),
  });
}
