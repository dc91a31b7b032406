/**
 * Seedable, counter-based random numbers for everything stochastic in training and sampling.
 *
 * Why not tf.randomNormal: its output depends on the backend and cannot be checkpointed. Here the
 * numbers are produced in JS by Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
 * 1, 2, 3"), so the same seed gives bit-identical tensors on cpu, wasm, webgl, webgpu or node, and the
 * whole state is a few integers that round-trip through JSON exactly.
 *
 * The generator is a stream of uint32 words: block i of the stream is philox(counter = i, key).
 * Words left over from the last block are kept in the state, so every draw continues the stream
 * exactly where the previous one stopped, and save/restore in the middle of a block is exact.
 */
import * as tf from '@tensorflow/tfjs';

/** JSON-serialisable generator state; restore it with `Rng.setState` or `Rng.fromState`. */
export interface RngState {
  algorithm: 'philox4x32-10';
  /** 64-bit key as [low, high] uint32 words. */
  key: [number, number];
  /** 64-bit index of the next block as [low, high] uint32 words. */
  counter: [number, number];
  /** Unused words of the last generated block, oldest first (0–3 entries). */
  buffer: number[];
}

const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;
const TWO_POW_32 = 4294967296;
const TWO_POW_NEG_24 = 1 / 16777216;
/** Third counter word used to derive child keys, so forks never collide with ordinary blocks ("fork"). */
const FORK_TAG = 0x666f726b;

/** High 32 bits of the 64-bit product of two uint32 values, exact in float64 arithmetic. */
function mulHi32(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const loLo = aLo * bLo;
  const hiLo = aHi * bLo;
  const loHi = aLo * bHi;
  const hiHi = aHi * bHi;
  const cross = (loLo >>> 16) + (hiLo & 0xffff) + loHi; // < 2^34, exact
  return (hiHi + (hiLo >>> 16) + Math.floor(cross / 65536)) >>> 0;
}

/**
 * Philox4x32 with 10 rounds: writes the 4 output words of block (c0..c3) under key (k0, k1) to
 * out[offset..offset+3]. Exported for the known-answer test.
 */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array,
  offset = 0,
): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulHi32(PHILOX_M0, x0);
    const lo0 = Math.imul(PHILOX_M0, x0) >>> 0;
    const hi1 = mulHi32(PHILOX_M1, x2);
    const lo1 = Math.imul(PHILOX_M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + PHILOX_W0) >>> 0;
    key1 = (key1 + PHILOX_W1) >>> 0;
  }
  out[offset] = x0;
  out[offset + 1] = x1;
  out[offset + 2] = x2;
  out[offset + 3] = x3;
}

function assertUint32Pair(value: unknown, field: string): asserts value is [number, number] {
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !value.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)
  ) {
    throw new Error(`RngState.${field} must be two uint32 integers, got ${JSON.stringify(value)}`);
  }
}

function assertNonNegativeSafeInteger(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${field} must be an integer in [0, 2^53), got ${value}`);
  }
}

function elementCount(shape: number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new Error(`shape entries must be non-negative integers, got [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

export class Rng {
  private key0: number;
  private key1: number;
  private counterLo = 0;
  private counterHi = 0;
  /** Unused words of the current block: block[blockPos..3]. */
  private readonly block = new Uint32Array(4);
  private blockPos = 4;

  /** @param seed any integer in [0, 2^53); it becomes the 64-bit Philox key. */
  constructor(seed: number) {
    assertNonNegativeSafeInteger(seed, 'Rng seed');
    this.key0 = seed >>> 0;
    this.key1 = Math.floor(seed / TWO_POW_32) >>> 0;
  }

  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  /** Fills `out` with the next words of the stream. */
  fillUint32(out: Uint32Array): Uint32Array {
    let i = 0;
    const n = out.length;
    while (i < n && this.blockPos < 4) out[i++] = this.block[this.blockPos++]!;
    // Whole blocks straight into the output, then a partial one through the buffer.
    while (n - i >= 4) {
      philox4x32(this.counterLo, this.counterHi, 0, 0, this.key0, this.key1, out, i);
      this.advanceCounter();
      i += 4;
    }
    if (i < n) {
      this.refillBlock();
      while (i < n) out[i++] = this.block[this.blockPos++]!;
    }
    return out;
  }

  nextUint32(): number {
    if (this.blockPos >= 4) this.refillBlock();
    return this.block[this.blockPos++]!;
  }

  /** Float32 samples from U[0, 1): 24 random bits each, so every value is exact in float32. */
  uniformArray(count: number): Float32Array {
    const words = this.fillUint32(new Uint32Array(count));
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = (words[i]! >>> 8) * TWO_POW_NEG_24;
    return out;
  }

  /** Float32 samples from N(0, 1) by Box–Muller on pairs of 24-bit uniforms (computed in float64). */
  normalArray(count: number): Float32Array {
    const pairs = Math.ceil(count / 2);
    const words = this.fillUint32(new Uint32Array(pairs * 2));
    const out = new Float32Array(count);
    for (let p = 0; p < pairs; p++) {
      // u1 in (0, 1] so log(u1) is finite; u2 in [0, 1).
      const u1 = ((words[2 * p]! >>> 8) + 1) * TWO_POW_NEG_24;
      const u2 = (words[2 * p + 1]! >>> 8) * TWO_POW_NEG_24;
      const radius = Math.sqrt(-2 * Math.log(u1));
      const angle = 2 * Math.PI * u2;
      out[2 * p] = radius * Math.cos(angle);
      if (2 * p + 1 < count) out[2 * p + 1] = radius * Math.sin(angle);
    }
    return out;
  }

  /** Uniform integers in [0, maxExclusive), unbiased (rejection of the top partial range). */
  uniformIntArray(count: number, maxExclusive: number): Int32Array {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > 2 ** 31) {
      throw new Error(`uniformInt maxExclusive must be an integer in [1, 2^31], got ${maxExclusive}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % maxExclusive);
    const out = new Int32Array(count);
    for (let i = 0; i < count;) {
      const word = this.nextUint32();
      if (word < limit) out[i++] = word % maxExclusive;
    }
    return out;
  }

  normal(shape: number[]): tf.Tensor {
    return tf.tensor(this.normalArray(elementCount(shape)), shape, 'float32');
  }

  uniform(shape: number[]): tf.Tensor {
    return tf.tensor(this.uniformArray(elementCount(shape)), shape, 'float32');
  }

  uniformInt(count: number, maxExclusive: number): tf.Tensor1D {
    assertNonNegativeSafeInteger(count, 'uniformInt count');
    return tf.tensor1d(this.uniformIntArray(count, maxExclusive), 'int32');
  }

  /** Fisher–Yates permutation of 0..n-1 (for shuffling datasets reproducibly). */
  permutation(n: number): Int32Array {
    assertNonNegativeSafeInteger(n, 'permutation n');
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.uniformIntArray(1, i + 1)[0]!;
      const tmp = out[i]!;
      out[i] = out[j]!;
      out[j] = tmp;
    }
    return out;
  }

  getState(): RngState {
    return {
      algorithm: 'philox4x32-10',
      key: [this.key0, this.key1],
      counter: [this.counterLo, this.counterHi],
      buffer: Array.from(this.block.subarray(this.blockPos)),
    };
  }

  setState(state: RngState): void {
    if (state.algorithm !== 'philox4x32-10') {
      throw new Error(`RngState.algorithm must be 'philox4x32-10', got ${JSON.stringify(state.algorithm)}`);
    }
    assertUint32Pair(state.key, 'key');
    assertUint32Pair(state.counter, 'counter');
    const buffer = state.buffer;
    if (
      !Array.isArray(buffer) ||
      buffer.length > 3 ||
      !buffer.every((w) => Number.isInteger(w) && w >= 0 && w < TWO_POW_32)
    ) {
      throw new Error(`RngState.buffer must hold at most 3 uint32 integers, got ${JSON.stringify(buffer)}`);
    }
    [this.key0, this.key1] = state.key;
    [this.counterLo, this.counterHi] = state.counter;
    this.blockPos = 4 - buffer.length;
    this.block.set(buffer, this.blockPos);
  }

  /**
   * An independent generator for sub-stream `stream`, derived from this generator's key only (not
   * its position), so `new Rng(s).fork(k)` is the same stream however much the parent has drawn.
   */
  fork(stream: number): Rng {
    assertNonNegativeSafeInteger(stream, 'Rng.fork stream');
    const words = new Uint32Array(4);
    philox4x32(stream >>> 0, Math.floor(stream / TWO_POW_32) >>> 0, FORK_TAG, 0, this.key0, this.key1, words);
    const child = new Rng(0);
    child.key0 = words[0]!;
    child.key1 = words[1]!;
    return child;
  }

  private refillBlock(): void {
    philox4x32(this.counterLo, this.counterHi, 0, 0, this.key0, this.key1, this.block, 0);
    this.advanceCounter();
    this.blockPos = 0;
  }

  private advanceCounter(): void {
    this.counterLo = (this.counterLo + 1) >>> 0;
    if (this.counterLo === 0) this.counterHi = (this.counterHi + 1) >>> 0;
  }
}
