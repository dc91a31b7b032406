import * as tf from '@tensorflow/tfjs';
import {
  AttentionBlock,
  Conv,
  Dense,
  Downsample,
  GroupNorm,
  ResBlock,
  Upsample,
  ZERO_INIT,
  type ApplyContext,
} from '../nn/blocks.ts';
import { timestepEmbedding } from '../nn/embedding.ts';
import { silu } from '../nn/ops.ts';
import { ParamStore, VariableOwner } from '../nn/params.ts';
import { installWasmKernelFixes } from '../nn/wasm-kernels.ts';

export interface UNetConfig {
  /** Image side in pixels (square); must be divisible by 2^(levels−1). */
  resolution: number;
  /** Image channels (1 grey, 3 RGB). */
  channels: number;
  baseChannels: number;
  channelMults: number[];
  numResBlocks: number;
  /** Resolutions (pixel side) at which self-attention follows each res block, e.g. [16]. */
  attentionResolutions: number[];
  dropout: number;
  /** GroupNorm groups; must divide every channel count. */
  groups: number;
  /** Class-conditional with this many classes; label index numClasses is the null label used for CFG. */
  numClasses?: number;
  /** Improved DDPM learned variance: the output has 2·channels (ε/v/x0 prediction, then the v interpolation). */
  learnSigma?: boolean;
  /**
   * How the time (+ class) embedding enters each res block. true: ADM's scale-shift norm, GN(h)·(1 + scale) + shift
   * after the block's second GroupNorm. false/absent: DDPM's bias added before that GroupNorm, which normalises
   * most of it away (with 2 channels per group only their difference survives), so a class label barely reaches
   * the network. Absent in configs saved before the option: those checkpoints load and sample as before.
   */
  scaleShiftNorm?: boolean;
}

export interface UNetApplyOptions {
  training?: boolean;
  dropoutMask?: ApplyContext['dropoutMask'];
}

export interface UNet {
  readonly config: UNetConfig;
  /** Trainable parameters by stable name (checkpoints, optimizers and EMA key on these). */
  readonly variables: Map<string, tf.Variable>;
  /** x [B,R,R,C] in model space, t [B] timesteps, labels [B] class indices (numClasses = unconditional). */
  apply(x: tf.Tensor4D, t: tf.Tensor1D, labels?: tf.Tensor1D, opts?: UNetApplyOptions): tf.Tensor4D;
  paramCount(): number;
  dispose(): void;
}

export function validateUNetConfig(c: UNetConfig): void {
  const fail = (field: string, msg: string): never => {
    throw new RangeError(`unet.${field} ${msg}`);
  };
  if (!Number.isInteger(c.resolution) || c.resolution < 4 || c.resolution > 1024)
    fail('resolution', `must be an integer in [4, 1024], got ${c.resolution}`);
  if (!Number.isInteger(c.channels) || c.channels < 1 || c.channels > 4)
    fail('channels', `must be 1..4, got ${c.channels}`);
  if (!Number.isInteger(c.baseChannels) || c.baseChannels < 4)
    fail('baseChannels', `must be an integer ≥ 4, got ${c.baseChannels}`);
  if (c.channelMults.length < 1 || c.channelMults.length > 6)
    fail('channelMults', `must have 1..6 levels, got ${c.channelMults.length}`);
  if (c.resolution % 2 ** (c.channelMults.length - 1) !== 0) {
    fail('resolution', `(${c.resolution}) must be divisible by 2^(levels−1) = ${2 ** (c.channelMults.length - 1)}`);
  }
  if (!Number.isInteger(c.numResBlocks) || c.numResBlocks < 1)
    fail('numResBlocks', `must be ≥ 1, got ${c.numResBlocks}`);
  if (!(c.dropout >= 0 && c.dropout < 1)) fail('dropout', `must be in [0, 1), got ${c.dropout}`);
  for (const m of c.channelMults) {
    if (!Number.isInteger(m) || m < 1) fail('channelMults', `entries must be positive integers, got ${m}`);
    if ((c.baseChannels * m) % c.groups !== 0)
      fail('groups', `(${c.groups}) must divide every channel count, not ${c.baseChannels * m}`);
  }
  if (c.baseChannels % c.groups !== 0) fail('groups', `(${c.groups}) must divide baseChannels ${c.baseChannels}`);
  if (c.numClasses !== undefined && (!Number.isInteger(c.numClasses) || c.numClasses < 1))
    fail('numClasses', `must be a positive integer, got ${c.numClasses}`);
  if (c.scaleShiftNorm !== undefined && typeof c.scaleShiftNorm !== 'boolean')
    fail('scaleShiftNorm', `must be true or false, got ${JSON.stringify(c.scaleShiftNorm)}`);
}

/**
 * The DDPM UNet (Ho et al. 2020, as in their CIFAR-10 model): conv_in; per level numResBlocks res blocks
 * (+ attention at the listed resolutions) and a stride-2 conv downsample; middle res-attn-res; per level
 * numResBlocks+1 res blocks on concatenated skips and a nearest+conv upsample; GN-SiLU-conv out (zero init).
 */
class DdpmUNet extends VariableOwner implements UNet {
  readonly variables: Map<string, tf.Variable>;
  private readonly tembDim: number;
  private readonly tembDense0: Dense;
  private readonly tembDense1: Dense;
  private readonly labelEmb: Dense | undefined;
  private readonly convIn: Conv;
  private readonly down: { res: ResBlock[]; attn: (AttentionBlock | undefined)[]; downsample?: Downsample }[] = [];
  private readonly midRes0: ResBlock;
  private readonly midAttn: AttentionBlock;
  private readonly midRes1: ResBlock;
  private readonly up: { res: ResBlock[]; attn: (AttentionBlock | undefined)[]; upsample?: Upsample }[] = [];
  private readonly outNorm: GroupNorm;
  private readonly outConv: Conv;

  constructor(
    readonly config: UNetConfig,
    seed: number,
  ) {
    super();
    validateUNetConfig(config);
    const s = new ParamStore(seed);
    this.variables = s.variables;
    const { baseChannels: ch, channelMults, numResBlocks, groups, dropout } = config;
    const scaleShift = config.scaleShiftNorm === true;
    const tembDim = (this.tembDim = ch * 4);
    this.tembDense0 = new Dense(s, 'temb.dense0', ch, tembDim);
    this.tembDense1 = new Dense(s, 'temb.dense1', tembDim, tembDim);
    this.labelEmb =
      config.numClasses !== undefined
        ? new Dense(s, 'label_emb', config.numClasses + 1, tembDim, { bias: false })
        : undefined;
    this.convIn = new Conv(s, 'conv_in', config.channels, ch, 3);
    const attnAt = new Set(config.attentionResolutions);

    const skipChannels = [ch];
    let cin = ch;
    let res = config.resolution;
    channelMults.forEach((mult, level) => {
      const cout = ch * mult;
      const entry: (typeof this.down)[number] = { res: [], attn: [] };
      for (let j = 0; j < numResBlocks; j++) {
        entry.res.push(new ResBlock(s, `down.${level}.res.${j}`, cin, cout, tembDim, groups, dropout, scaleShift));
        entry.attn.push(attnAt.has(res) ? new AttentionBlock(s, `down.${level}.attn.${j}`, cout, groups) : undefined);
        cin = cout;
        skipChannels.push(cin);
      }
      if (level !== channelMults.length - 1) {
        entry.downsample = new Downsample(s, `down.${level}.downsample`, cin);
        skipChannels.push(cin);
        res /= 2;
      }
      this.down.push(entry);
    });

    this.midRes0 = new ResBlock(s, 'mid.res.0', cin, cin, tembDim, groups, dropout, scaleShift);
    this.midAttn = new AttentionBlock(s, 'mid.attn', cin, groups);
    this.midRes1 = new ResBlock(s, 'mid.res.1', cin, cin, tembDim, groups, dropout, scaleShift);

    for (let level = channelMults.length - 1; level >= 0; level--) {
      const cout = ch * channelMults[level]!;
      const entry: (typeof this.up)[number] = { res: [], attn: [] };
      for (let j = 0; j < numResBlocks + 1; j++) {
        const skip = skipChannels.pop()!;
        entry.res.push(new ResBlock(s, `up.${level}.res.${j}`, cin + skip, cout, tembDim, groups, dropout, scaleShift));
        entry.attn.push(attnAt.has(res) ? new AttentionBlock(s, `up.${level}.attn.${j}`, cout, groups) : undefined);
        cin = cout;
      }
      if (level !== 0) {
        entry.upsample = new Upsample(s, `up.${level}.upsample`, cin);
        res *= 2;
      }
      this.up.push(entry);
    }
    this.outNorm = new GroupNorm(s, 'out.norm', cin, groups);
    const outChannels = config.learnSigma ? 2 * config.channels : config.channels;
    this.outConv = new Conv(s, 'out.conv', cin, outChannels, 3, 1, ZERO_INIT);
  }

  apply(x: tf.Tensor4D, t: tf.Tensor1D, labels?: tf.Tensor1D, opts: UNetApplyOptions = {}): tf.Tensor4D {
    const { resolution, channels } = this.config;
    const [b, h, w, c] = x.shape;
    if (h !== resolution || w !== resolution || c !== channels) {
      throw new RangeError(
        `unet.apply: x must be [B, ${resolution}, ${resolution}, ${channels}], got [${x.shape.join(', ')}]`,
      );
    }
    if (t.shape[0] !== b) throw new RangeError(`unet.apply: t must have ${b} entries, got ${t.shape[0]}`);
    const ctx: ApplyContext = { training: opts.training ?? false, dropoutMask: opts.dropoutMask };
    installWasmKernelFixes();
    return tf.tidy(() => {
      let emb = this.tembDense1.apply(
        silu(this.tembDense0.apply(timestepEmbedding(t, this.config.baseChannels))) as tf.Tensor2D,
      );
      if (this.labelEmb) {
        const numClasses = this.config.numClasses!;
        const ids = labels ? tf.cast(labels, 'int32') : tf.fill([b], numClasses, 'int32');
        emb = tf.add(
          emb,
          this.labelEmb.apply(tf.oneHot(ids as tf.Tensor1D, numClasses + 1).toFloat() as tf.Tensor2D),
        ) as tf.Tensor2D;
      }
      const tembAct = silu(emb) as tf.Tensor2D;

      let h4 = this.convIn.apply(x);
      const skips: tf.Tensor4D[] = [h4];
      for (const level of this.down) {
        level.res.forEach((block, j) => {
          h4 = block.apply(h4, tembAct, ctx);
          const attn = level.attn[j];
          if (attn) h4 = attn.apply(h4);
          skips.push(h4);
        });
        if (level.downsample) {
          h4 = level.downsample.apply(h4);
          skips.push(h4);
        }
      }
      h4 = this.midRes1.apply(this.midAttn.apply(this.midRes0.apply(h4, tembAct, ctx)), tembAct, ctx);
      for (const level of this.up) {
        level.res.forEach((block, j) => {
          h4 = block.apply(tf.concat([h4, skips.pop()!], 3) as tf.Tensor4D, tembAct, ctx);
          const attn = level.attn[j];
          if (attn) h4 = attn.apply(h4);
        });
        if (level.upsample) h4 = level.upsample.apply(h4);
      }
      return this.outConv.apply(this.outNorm.apply(h4, true));
    });
  }
}

export function createUNet(config: UNetConfig, seed = 0): UNet {
  return new DdpmUNet(config, seed);
}
