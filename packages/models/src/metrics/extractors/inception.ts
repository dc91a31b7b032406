import * as tf from '@tensorflow/tfjs';
import type { EvaluationExtractor } from './types.ts';

export interface InceptionExtractorOptions {
  /** Graph node (or signature output) giving the 2048-d pool3 features; default 'pool_3' → tried with fallbacks. */
  poolOutput?: string;
  /** Graph node giving the logits; default 'logits'. */
  logitsOutput?: string;
  /** Side the images are resized to (bilinear); default 299. */
  inputSize?: number;
  /** Range the converted model expects: '[-1,1]' (TF-Slim / pytorch-fid export, default) or '[0,1]' or '[0,255]'. */
  inputRange?: '[-1,1]' | '[0,1]' | '[0,255]';
  /** Images per forward pass; default 16 (299×299×3 activations are large). */
  batchSize?: number;
  /** Label for `name`, e.g. 'pt_inception-2015-12-05'; default 'inception-v3'. */
  label?: string;
}

/**
 * FID/IS with an InceptionV3 TF.js graph model (converted with tensorflowjs_converter; see
 * docs/evaluation.md). Images in [-1, 1] are tiled to 3 channels when grey, resized to 299×299 with
 * bilinear interpolation, mapped to the model's input range, and run once for both outputs: pool3
 * features (reshaped to n×dims) and logits (softmax → probabilities for IS).
 */
export async function loadInceptionExtractor(
  source: string | tf.io.IOHandler,
  options: InceptionExtractorOptions = {},
): Promise<EvaluationExtractor> {
  const model = await tf.loadGraphModel(source);
  const poolOutput = options.poolOutput ?? 'pool_3';
  const logitsOutput = options.logitsOutput ?? 'logits';
  const size = options.inputSize ?? 299;
  const range = options.inputRange ?? '[-1,1]';
  const batchSize = options.batchSize ?? 16;
  const toInput = (images: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      const rgb = images.shape[3] === 1 ? tf.tile(images, [1, 1, 1, 3]) : images;
      const resized = tf.image.resizeBilinear(rgb as tf.Tensor4D, [size, size], false);
      if (range === '[0,1]') return tf.div(tf.add(resized, 1), 2) as tf.Tensor4D;
      if (range === '[0,255]') return tf.mul(tf.add(resized, 1), 127.5) as tf.Tensor4D;
      return resized as tf.Tensor4D;
    });
  const run = (input: tf.Tensor4D): [tf.Tensor, tf.Tensor] => {
    const outs = model.execute(input, [poolOutput, logitsOutput]) as tf.Tensor[];
    return [outs[0]!, outs[1]!];
  };
  // Probe once to learn the output sizes (and fail early on wrong node names).
  const probe = tf.zeros([1, size, size, 3]) as tf.Tensor4D;
  let dims: number;
  let numClasses: number;
  try {
    const [pool, logits] = run(probe);
    dims = pool.size;
    numClasses = logits.size;
    tf.dispose([pool, logits]);
  } catch (err) {
    model.dispose();
    throw new Error(
      `the Inception graph model has no outputs '${poolOutput}' and '${logitsOutput}' (set the node names): ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    probe.dispose();
  }
  return {
    name: `${options.label ?? 'inception-v3'}(pool=${poolOutput},logits=${logitsOutput},${size}px,bilinear)`,
    dims,
    numClasses,
    paperComparable: size === 299 && dims === 2048,
    async extract(images) {
      const n = images.shape[0];
      const features = new Float32Array(n * dims);
      const probabilities = new Float32Array(n * numClasses);
      for (let start = 0; start < n; start += batchSize) {
        const m = Math.min(batchSize, n - start);
        const [f, p] = tf.tidy((): [tf.Tensor, tf.Tensor] => {
          const input = toInput(images.slice([start, 0, 0, 0], [m, -1, -1, -1]));
          const [pool, logits] = run(input);
          return [pool.reshape([m, dims]), tf.softmax(logits.reshape([m, numClasses]))];
        });
        features.set(await f.data(), start * dims);
        probabilities.set(await p.data(), start * numClasses);
        tf.dispose([f, p]);
      }
      return { features, probabilities };
    },
    dispose() {
      model.dispose();
    },
  };
}
