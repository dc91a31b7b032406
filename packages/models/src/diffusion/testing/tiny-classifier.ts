import * as tf from '@tensorflow/tfjs';
import { conv2d } from '../../nn/conv.ts';
import { ParamStore } from '../../nn/params.ts';
import { Rng } from '../../rng.ts';

/**
 * A small CNN classifier (3 conv3×3 + ReLU, strides 1-2-2, global mean and max pooling, one dense layer),
 * trained on images made in the same test, to read the class of generated samples. It uses the project's
 * conv2d (whose gradient runs on wasm) and is seeded, so a test gives the same classifier every time.
 */
export interface TinyClassifier {
  /** Class probabilities [N, K] for [-1, 1] images [N, H, W, C]. */
  predict(images: tf.Tensor4D): tf.Tensor2D;
  /** The pooled features the last layer reads [N, 4·width]: a data-specific embedding for KID. */
  features(images: tf.Tensor4D): tf.Tensor2D;
  /** Fraction of `images` whose most probable class is the label, and the mean probability given to it. */
  score(images: tf.Tensor4D, labels: ArrayLike<number>): Promise<{ accuracy: number; meanProbability: number }>;
  dispose(): void;
}

export interface TrainClassifierOptions {
  classes: number;
  /** Optimizer steps; default 300. */
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  width?: number;
}

export async function trainTinyClassifier(
  images: tf.Tensor4D,
  labels: Int32Array,
  options: TrainClassifierOptions,
): Promise<TinyClassifier> {
  const { classes } = options;
  const steps = options.steps ?? 300;
  const batchSize = Math.min(options.batchSize ?? 64, images.shape[0]);
  const width = options.width ?? 16;
  const channels = images.shape[3];
  const store = new ParamStore(options.seed ?? 0);
  const convs = [
    [channels, width, 1],
    [width, 2 * width, 2],
    [2 * width, 2 * width, 2],
  ].map(([cin, cout, stride], i) => ({
    kernel: store.weight(`cls.conv${i}.kernel`, [3, 3, cin!, cout!], 9 * cin!, 9 * cout!, 2),
    bias: store.zeros(`cls.conv${i}.bias`, [cout!]),
    stride: stride!,
  }));
  const head = store.weight('cls.head.kernel', [4 * width, classes], 4 * width, classes);
  const headBias = store.zeros('cls.head.bias', [classes]);
  const features = (x: tf.Tensor4D): tf.Tensor2D =>
    tf.tidy(() => {
      let h = x;
      for (const c of convs) h = tf.relu(conv2d(h, c.kernel as tf.Tensor4D, c.bias as tf.Tensor1D, c.stride));
      return tf.concat([tf.mean(h, [1, 2]), tf.max(h, [1, 2])], 1) as tf.Tensor2D;
    });
  const logits = (x: tf.Tensor4D): tf.Tensor2D =>
    tf.tidy(() => tf.add(tf.matMul(features(x), head as tf.Tensor2D), headBias) as tf.Tensor2D);

  const optimizer = tf.train.adam(options.lr ?? 3e-3);
  const rng = new Rng((options.seed ?? 0) + 1);
  const n = images.shape[0];
  const labelTensor = tf.tensor1d(labels, 'int32');
  for (let step = 0; step < steps; step++) {
    const idx = tf.tensor1d(rng.uniformIntArray(batchSize, n), 'int32');
    const cost = optimizer.minimize(
      () =>
        tf.tidy(() => {
          const x = tf.gather(images, idx) as tf.Tensor4D;
          const y = tf.oneHot(tf.gather(labelTensor, idx), classes);
          return tf.losses.softmaxCrossEntropy(y, logits(x)) as tf.Scalar;
        }),
      true,
      [...store.variables.values()],
    );
    cost?.dispose();
    idx.dispose();
    if (step % 20 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  labelTensor.dispose();
  optimizer.dispose();

  const predict = (x: tf.Tensor4D) => tf.tidy(() => tf.softmax(logits(x)) as tf.Tensor2D);
  return {
    predict,
    features,
    async score(x, y) {
      const probs = predict(x);
      const p = (await probs.data()) as Float32Array;
      probs.dispose();
      let correct = 0;
      let mass = 0;
      for (let i = 0; i < y.length; i++) {
        const row = p.subarray(i * classes, (i + 1) * classes);
        let best = 0;
        for (let k = 1; k < classes; k++) if (row[k]! > row[best]!) best = k;
        if (best === y[i]) correct += 1;
        mass += row[y[i]!]!;
      }
      return { accuracy: correct / y.length, meanProbability: mass / y.length };
    },
    dispose() {
      for (const v of store.variables.values()) v.dispose();
    },
  };
}
