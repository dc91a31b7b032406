import * as tf from '@tensorflow/tfjs';
import type { EvaluationExtractor } from './types.ts';

/**
 * One layer's contribution to the features: its output [n, h, w, c] averaged over each cell of a
 * rows × cols grid (cells overlap by a row/column when the side is not a multiple). [1, 1] is global
 * average pooling (as FID's pool3); [2, 1] keeps the top and bottom halves apart, so the features say
 * where in the image a pattern is (as sFID's spatial features do).
 */
export interface FeatureLayer {
  layer: string;
  grid: [rows: number, cols: number];
}

export interface KerasFeatureExtractorOptions {
  /** Layers whose pooled outputs are concatenated (in this order, then cell by cell, row-major) into the features. */
  featureLayers: FeatureLayer[];
  /** Side the images are resized to (bilinear, half-pixel centres); the network must accept it (convolutional up to featureLayer). */
  inputSize: number;
  /** Range the network expects its pixels in. */
  inputRange: '[-1,1]' | '[0,1]';
  /** Images per forward pass; default 16. */
  batchSize?: number;
  /** The extractor's name (network, weights and configuration); see pretrainedExtractorName. */
  name: string;
}

interface KerasLayerJson {
  name: string;
  class_name: string;
  config: { batch_input_shape?: (number | null)[]; [key: string]: unknown };
  inbound_nodes: unknown[];
}

interface KerasModelJson {
  class_name: string;
  config: {
    layers: KerasLayerJson[];
    input_layers: unknown[];
    output_layers: unknown[];
  };
}

/** The functional-model config inside a Keras topology (tfjs writes it bare or under model_config). */
function modelConfig(topology: unknown): KerasModelJson {
  const t = topology as { model_config?: KerasModelJson } & Partial<KerasModelJson>;
  const model = t.model_config ?? (t as KerasModelJson);
  if (!Array.isArray(model?.config?.layers))
    throw new Error('not a Keras functional model topology (no config.layers)');
  return model;
}

/** Layer names an inbound_nodes entry refers to (Keras 2 format: [[[name, nodeIndex, tensorIndex, kwargs], …], …]). */
function inboundNames(layer: KerasLayerJson): string[] {
  return (layer.inbound_nodes as unknown[][][]).flatMap((node) => node.map((edge) => String(edge[0])));
}

/**
 * Cuts a Keras functional model at `featureLayers`: keeps those layers and everything they depend on,
 * makes them the outputs, sets the input's spatial size, and keeps only the weights of the kept
 * layers (dequantised to float32), so that loading stays strict: a missing weight is an error.
 */
async function truncate(
  artifacts: tf.io.ModelArtifacts,
  featureLayers: string[],
  inputSize: number,
): Promise<tf.io.ModelArtifacts> {
  const topology = structuredClone(artifacts.modelTopology) as object;
  const model = modelConfig(topology);
  const byName = new Map(model.config.layers.map((l) => [l.name, l]));
  for (const layer of featureLayers) if (!byName.has(layer)) throw new Error(`the network has no layer '${layer}'`);
  const needed = new Set<string>();
  const stack = [...featureLayers];
  while (stack.length > 0) {
    const name = stack.pop()!;
    if (needed.has(name)) continue;
    needed.add(name);
    const layer = byName.get(name);
    if (!layer) throw new Error(`layer '${name}' is referenced but not defined`);
    stack.push(...inboundNames(layer));
  }
  model.config.layers = model.config.layers.filter((l) => needed.has(l.name));
  model.config.output_layers = featureLayers.map((layer) => [layer, 0, 0]);
  const inputs = model.config.layers.filter((l) => l.class_name === 'InputLayer');
  if (inputs.length !== 1) throw new Error(`expected one input layer, found ${inputs.length}`);
  const shape = inputs[0]!.config.batch_input_shape;
  if (!shape || shape.length !== 4) throw new Error('the input layer is not [batch, height, width, channels]');
  inputs[0]!.config.batch_input_shape = [null, inputSize, inputSize, shape[3] ?? 3];

  if (!artifacts.weightSpecs || !artifacts.weightData) throw new Error('the model has no weights');
  const decoded = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
  const kept: tf.NamedTensorMap = {};
  for (const [name, tensor] of Object.entries(decoded)) {
    if (needed.has(name.split('/')[0]!)) kept[name] = tensor;
  }
  const { data, specs } = await tf.io.encodeWeights(kept);
  tf.dispose(Object.values(decoded));
  return { modelTopology: topology, format: 'layers-model', weightSpecs: specs, weightData: data };
}

/**
 * A feature extractor from a pretrained Keras-format TF.js layers model: the spatial means of some
 * convolutional layers' outputs (as FID's pool3 is for InceptionV3). Images in [-1, 1] of any size are
 * tiled to 3 channels when grey, upsampled to `inputSize` (as FID implementations upsample to 299) and
 * mapped to the network's input range. No class head: `numClasses` is 0 and `probabilities` empty.
 */
export async function loadKerasFeatureExtractor(
  handler: tf.io.IOHandler,
  options: KerasFeatureExtractorOptions,
): Promise<EvaluationExtractor> {
  const { featureLayers, inputSize, inputRange, name } = options;
  if (featureLayers.length === 0) throw new RangeError('featureLayers must name at least one layer');
  const batchSize = options.batchSize ?? 16;
  if (!Number.isInteger(inputSize) || inputSize < 32)
    throw new RangeError(`inputSize must be an integer ≥ 32, got ${inputSize}`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  for (const { layer, grid } of featureLayers)
    if (!grid.every((g) => Number.isInteger(g) && g >= 1))
      throw new RangeError(`grid of '${layer}' must be two positive integers, got ${JSON.stringify(grid)}`);
  if (!handler.load) throw new Error('the IOHandler cannot load');
  // A layer may be pooled in several ways, but is an output of the model once.
  const outputLayers = [...new Set(featureLayers.map((f) => f.layer))];
  const artifacts = await truncate(await handler.load(), outputLayers, inputSize);
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  let dims = 0;
  featureLayers.forEach(({ layer, grid }) => {
    const output = model.outputs[outputLayers.indexOf(layer)]!;
    const [, height, width, channels] = output.shape;
    if (
      output.shape.length !== 4 ||
      typeof channels !== 'number' ||
      typeof height !== 'number' ||
      typeof width !== 'number'
    ) {
      model.dispose();
      throw new Error(`layer '${layer}' does not give [n, h, w, c] maps (shape ${JSON.stringify(output.shape)})`);
    }
    const [rows, cols] = grid;
    if (height < rows || width < cols) {
      model.dispose();
      throw new RangeError(
        `layer '${layer}' is ${height}×${width} at ${inputSize} px: too small for a ${rows}×${cols} grid`,
      );
    }
    dims += channels * rows * cols;
  });
  const cells = (side: number, count: number) =>
    Array.from({ length: count }, (_, i) => {
      const begin = Math.floor((i * side) / count);
      return [begin, Math.ceil(((i + 1) * side) / count) - begin] as const;
    });
  const pool = (map: tf.Tensor4D, [rows, cols]: [number, number]): tf.Tensor2D => {
    if (rows === 1 && cols === 1) return tf.mean(map, [1, 2]) as tf.Tensor2D;
    const parts: tf.Tensor2D[] = [];
    for (const [y, h] of cells(map.shape[1], rows))
      for (const [x, w] of cells(map.shape[2], cols))
        parts.push(tf.mean(tf.slice(map, [0, y, x, 0], [-1, h, w, -1]), [1, 2]) as tf.Tensor2D);
    return tf.concat(parts, 1);
  };
  const toInput = (images: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      const rgb = images.shape[3] === 1 ? tf.tile(images, [1, 1, 1, 3]) : images;
      const resized =
        images.shape[1] === inputSize && images.shape[2] === inputSize
          ? rgb
          : tf.image.resizeBilinear(rgb as tf.Tensor4D, [inputSize, inputSize], false, true);
      return (inputRange === '[0,1]' ? tf.div(tf.add(resized, 1), 2) : resized) as tf.Tensor4D;
    });
  return {
    name,
    dims,
    numClasses: 0,
    paperComparable: false,
    async extract(images) {
      if (images.rank !== 4 || (images.shape[3] !== 1 && images.shape[3] !== 3))
        throw new RangeError(`extract: images must be [n, h, w, 1 or 3], got [${images.shape.join(', ')}]`);
      const n = images.shape[0];
      const features = new Float32Array(n * dims);
      for (let start = 0; start < n; start += batchSize) {
        const m = Math.min(batchSize, n - start);
        const f = tf.tidy(() => {
          const out = model.predict(toInput(images.slice([start, 0, 0, 0], [m, -1, -1, -1])));
          const maps = Array.isArray(out) ? out : [out];
          return tf.concat(
            featureLayers.map(({ layer, grid }) => pool(maps[outputLayers.indexOf(layer)] as tf.Tensor4D, grid)),
            1,
          );
        });
        features.set(await f.data(), start * dims);
        f.dispose();
      }
      return { features, probabilities: new Float32Array(0) };
    },
    dispose() {
      model.dispose();
    },
  };
}
