import * as tf from '@tensorflow/tfjs';

/**
 * Space-to-depth by 2: [B, H, W, C] → [B, H/2, W/2, 4C], each 2×2 block's pixels becoming channels in the
 * order (row, column, channel). A permutation of the values: log-det 0. Written as a 4-D transpose
 * ([B·H/2, 2, W/2, 2C] → [B·H/2, W/2, 2, 2C]), which every backend runs without a 6-D kernel.
 */
export function squeeze2d(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (h % 2 !== 0 || w % 2 !== 0) throw new RangeError(`squeeze2d: height and width must be even, got ${h}×${w}`);
  return tf.tidy(
    () =>
      tf
        .transpose(x.reshape([b * (h / 2), 2, w / 2, 2 * c]), [0, 2, 1, 3])
        .reshape([b, h / 2, w / 2, 4 * c]) as tf.Tensor4D,
  );
}

/** Inverse of squeeze2d: [B, H, W, 4C] → [B, 2H, 2W, C]. */
export function unsqueeze2d(x: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w, c4] = x.shape;
  if (c4 % 4 !== 0) throw new RangeError(`unsqueeze2d: channels must be divisible by 4, got ${c4}`);
  const c = c4 / 4;
  return tf.tidy(
    () => tf.transpose(x.reshape([b * h, w, 2, 2 * c]), [0, 2, 1, 3]).reshape([b, 2 * h, 2 * w, c]) as tf.Tensor4D,
  );
}
