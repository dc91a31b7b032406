import * as tf from '@tensorflow/tfjs';
import { conv2d } from './conv.ts';
import { groupNorm } from './groupnorm.ts';
import { bmm, dense, scaleShiftPerSampleChannels, silu, upsample2x } from './ops.ts';
import type { ParamStore } from './params.ts';
import { webgpuAttention, webgpuAttentionFits } from './webgpu/attention.ts';
import { webgpuKernelsActive } from './webgpu/enabled.ts';

/** Per-call settings shared by every block of one forward pass. */
export interface ApplyContext {
  training: boolean;
  /**
   * Returns a keep-mask already scaled by 1/(1−rate) for dropout. The trainer supplies one drawn from its
   * seedable Rng so that training (and resuming it) is reproducible; without it TF.js' own RNG is used.
   */
  dropoutMask?: (shape: number[], rate: number) => tf.Tensor;
}

/** Output-layer init scale: DDPM zero-initialises (1e-10) the last conv of each block. */
export const ZERO_INIT = 0;

export class Conv {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    store: ParamStore,
    name: string,
    cin: number,
    cout: number,
    k: number,
    readonly stride = 1,
    scale = 1,
  ) {
    this.kernel = store.weight(`${name}.kernel`, [k, k, cin, cout], cin * k * k, cout * k * k, scale);
    this.bias = store.zeros(`${name}.bias`, [cout]);
  }

  /** `residual` (same shape as the output) is added to the result: fused into the conv on webgpu. */
  apply(x: tf.Tensor4D, residual?: tf.Tensor4D): tf.Tensor4D {
    return conv2d(x, this.kernel as tf.Tensor4D, this.bias as tf.Tensor1D, this.stride, residual);
  }
}

export class Dense {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(
    store: ParamStore,
    name: string,
    cin: number,
    cout: number,
    opts: { scale?: number; bias?: boolean } = {},
  ) {
    this.kernel = store.weight(`${name}.kernel`, [cin, cout], cin, cout, opts.scale ?? 1);
    this.bias = opts.bias === false ? undefined : store.zeros(`${name}.bias`, [cout]);
  }

  /** `residual` [N, Cout] is added to the result (fused on webgpu). */
  apply(x: tf.Tensor2D, residual?: tf.Tensor2D): tf.Tensor2D {
    return dense(x, this.kernel as tf.Tensor2D, this.bias as tf.Tensor1D | undefined, residual);
  }
}

export class GroupNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;

  constructor(
    store: ParamStore,
    name: string,
    channels: number,
    readonly groups: number,
  ) {
    if (channels % groups !== 0) {
      throw new RangeError(`${name}: channels (${channels}) must be divisible by groups (${groups})`);
    }
    this.gamma = store.ones(`${name}.gamma`, [channels]);
    this.beta = store.zeros(`${name}.beta`, [channels]);
  }

  /**
   * GroupNorm(x)·γ + β, then SiLU when `silu` (the pair the UNet's blocks use, fused into one op); `bias` [B, C] is
   * added to x first (the time embedding, fused into the same kernel on webgpu).
   */
  apply(x: tf.Tensor4D, silu = false, bias?: tf.Tensor2D): tf.Tensor4D {
    return groupNorm(x, this.gamma as tf.Tensor1D, this.beta as tf.Tensor1D, this.groups, {
      silu,
      ...(bias ? { bias } : {}),
    });
  }
}

function dropout(x: tf.Tensor4D, rate: number, ctx: ApplyContext): tf.Tensor4D {
  if (!ctx.training || rate <= 0) return x;
  const mask = ctx.dropoutMask
    ? ctx.dropoutMask(x.shape, rate)
    : tf.div(tf.cast(tf.greaterEqual(tf.randomUniform(x.shape), rate), 'float32'), 1 - rate);
  return tf.mul(x, mask) as tf.Tensor4D;
}

/**
 * DDPM residual block: GN-SiLU-conv, + time embedding, GN-SiLU-dropout-conv(zero init), 1×1 skip if needed.
 * With `scaleShift` (ADM's use_scale_shift_norm) the embedding instead gives a per-channel scale and shift
 * applied after the second GroupNorm: GN(h)·(1 + scale) + shift. A bias added before a GroupNorm is partly
 * normalised away (all of it with one channel per group, all but the differences with two), so there the
 * embedding — the timestep and a class label — can only reach the block through what survives.
 */
export class ResBlock {
  private readonly norm1: GroupNorm;
  private readonly conv1: Conv;
  private readonly temb: Dense;
  private readonly norm2: GroupNorm;
  private readonly conv2: Conv;
  private readonly skip: Conv | undefined;

  constructor(
    store: ParamStore,
    name: string,
    cin: number,
    cout: number,
    tembDim: number,
    groups: number,
    readonly dropout: number,
    private readonly scaleShift = false,
  ) {
    this.norm1 = new GroupNorm(store, `${name}.norm1`, cin, groups);
    this.conv1 = new Conv(store, `${name}.conv1`, cin, cout, 3);
    this.temb = new Dense(store, `${name}.temb`, tembDim, scaleShift ? 2 * cout : cout);
    this.norm2 = new GroupNorm(store, `${name}.norm2`, cout, groups);
    this.conv2 = new Conv(store, `${name}.conv2`, cout, cout, 3, 1, ZERO_INIT);
    this.skip = cin !== cout ? new Conv(store, `${name}.skip`, cin, cout, 1) : undefined;
  }

  apply(x: tf.Tensor4D, tembAct: tf.Tensor2D, ctx: ApplyContext): tf.Tensor4D {
    let h = this.conv1.apply(this.norm1.apply(x, true));
    if (this.scaleShift) {
      const e = this.temb.apply(tembAct);
      const c = e.shape[1] / 2;
      const scale = e.slice([0, 0], [-1, c]);
      const shift = e.slice([0, c], [-1, c]);
      h = silu(scaleShiftPerSampleChannels(this.norm2.apply(h), scale, shift)) as tf.Tensor4D;
    } else {
      h = this.norm2.apply(h, true, this.temb.apply(tembAct)); // h + temb, then GN-SiLU
    }
    const skip = this.skip ? this.skip.apply(x) : x;
    return this.conv2.apply(dropout(h, this.dropout, ctx), skip); // skip + conv2(h)
  }
}

/** Single-head self-attention over all positions (DDPM AttnBlock), zero-initialised output projection. */
export class AttentionBlock {
  private readonly norm: GroupNorm;
  private readonly q: Dense;
  private readonly k: Dense;
  private readonly v: Dense;
  private readonly proj: Dense;

  constructor(
    store: ParamStore,
    name: string,
    private readonly channels: number,
    groups: number,
  ) {
    this.norm = new GroupNorm(store, `${name}.norm`, channels, groups);
    this.q = new Dense(store, `${name}.q`, channels, channels);
    this.k = new Dense(store, `${name}.k`, channels, channels);
    this.v = new Dense(store, `${name}.v`, channels, channels);
    this.proj = new Dense(store, `${name}.proj`, channels, channels, { scale: ZERO_INIT });
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    const n = h * w;
    // Flatten to 2D before the projections: broadcast matMuls are slow on wasm.
    const flat = this.norm.apply(x).reshape([b * n, c]) as tf.Tensor2D;
    const scale = 1 / Math.sqrt(this.channels);
    let out: tf.Tensor2D;
    if (webgpuKernelsActive() && webgpuAttentionFits(b, n)) {
      // One kernel for QKᵀ, softmax and ·V (the scale folded in), the N×N matrix never stored.
      const [q, k, v] = [this.q, this.k, this.v].map((d) => d.apply(flat).reshape([b, n, c]) as tf.Tensor3D);
      out = webgpuAttention(q!, k!, v!, scale).reshape([b * n, c]) as tf.Tensor2D;
    } else {
      const q = tf.mul(this.q.apply(flat), scale).reshape([b, n, c]) as tf.Tensor3D;
      const k = this.k.apply(flat).reshape([b, n, c]) as tf.Tensor3D;
      const v = this.v.apply(flat).reshape([b, n, c]) as tf.Tensor3D;
      const attn = tf.softmax(bmm(q, k, { transposeB: true })) as tf.Tensor3D; // [B, N, N]
      out = bmm(attn, v).reshape([b * n, c]) as tf.Tensor2D;
    }
    // x + proj(out), the residual add fused into the projection on webgpu.
    return this.proj.apply(out, x.reshape([b * n, c]) as tf.Tensor2D).reshape([b, h, w, c]) as tf.Tensor4D;
  }
}

export class Downsample {
  private readonly conv: Conv;
  constructor(store: ParamStore, name: string, channels: number) {
    this.conv = new Conv(store, `${name}.conv`, channels, channels, 3, 2);
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.apply(x);
  }
}

export class Upsample {
  private readonly conv: Conv;
  constructor(store: ParamStore, name: string, channels: number) {
    this.conv = new Conv(store, `${name}.conv`, channels, channels, 3);
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return this.conv.apply(upsample2x(x));
  }
}
