import { philox4x32, Rng } from '../rng.ts';

/**
 * The randomness of one training step, per image: each image of a global batch draws its timestep, its
 * label-dropout coin and its noise from its own stream, fork(i) of a per-step key, and each dropout layer's
 * mask element for image i is a hash of its index in the *global* batch. So an image's randomness depends on
 * (step key, i) only, not on how the batch is cut into micro-batches or data-parallel slices: N workers
 * reproduce one worker up to float summation order (the same idea as the samplers' per-image streams).
 */

/** A step's key: 64 random bits drawn from the trainer's Rng (so checkpoints resume the same keys). */
export interface StepKey {
  lo: number;
  hi: number;
}

/** Third counter word for dropout-layer seeds, so they never collide with an image stream's blocks ("drop"). */
const DROPOUT_TAG = 0x64726f70;

export function drawStepKey(rng: Rng): StepKey {
  return { lo: rng.nextUint32(), hi: rng.nextUint32() };
}

function stepRng(key: StepKey): Rng {
  return Rng.fromState({ algorithm: 'philox4x32-10', key: [key.lo >>> 0, key.hi >>> 0], counter: [0, 0], buffer: [] });
}

export interface SliceNoise {
  /** Timesteps in [0, T) of images start … start+count−1. */
  t: Int32Array;
  /** Uniforms in [0, 1) for label dropout (drawn whether or not the model is conditional). */
  labelU: Float32Array;
  /** N(0, 1) noise, count × perImage values (NHWC, image-major). */
  noise: Float32Array;
}

/** t, label-dropout uniforms and noise of images [start, start + count) of a step's global batch. */
export function sliceNoise(key: StepKey, start: number, count: number, T: number, perImage: number): SliceNoise {
  const base = stepRng(key);
  const t = new Int32Array(count);
  const labelU = new Float32Array(count);
  const noise = new Float32Array(count * perImage);
  for (let k = 0; k < count; k++) {
    const rng = base.fork(start + k);
    t[k] = rng.uniformIntArray(1, T)[0]!;
    labelU[k] = rng.uniformArray(1)[0]!;
    noise.set(rng.normalArray(perImage), k * perImage);
  }
  return { t, labelU, noise };
}

/**
 * Seeds for dropoutKeepMask (nn/dropout-mask.ts) of the `layer`-th dropout call of a forward pass over images
 * starting at global index `firstImage`. The mask hashes element index i as (i + seedA) ^ seedB in 32-bit
 * arithmetic, so shifting seedA by firstImage × (elements per image) gives exactly the elements the whole
 * batch's mask has for those images.
 */
export function dropoutSeeds(
  key: StepKey,
  layer: number,
  firstImage: number,
  perImage: number,
): { seedA: number; seedB: number } {
  const words = new Uint32Array(4);
  philox4x32(layer, 0, DROPOUT_TAG, 0, key.lo, key.hi, words);
  // (a + b) mod 2^32 exactly: firstImage × perImage can exceed 2^32 only past 4 G elements per step.
  const shift = (firstImage * perImage) % 4294967296;
  return { seedA: (words[0]! + shift) % 4294967296, seedB: words[1]! };
}
