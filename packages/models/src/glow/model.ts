import * as tf from '@tensorflow/tfjs';
import { InitRng } from '../nn/init.ts';
import { ParamStore, VariableOwner } from '../nn/params.ts';
import { installWasmKernelFixes } from '../nn/wasm-kernels.ts';
import { glowDims, levelChannels, validateGlowConfig, type GlowConfig } from './config.ts';
import { splitChannels } from './coupling.ts';
import { bitsPerDimFromLogDensity } from './data.ts';
import { FlowStep } from './flow-step.ts';
import { gaussianEps, gaussianLogProb, gaussianSample, SplitPrior, TopPrior, type GaussianParams } from './prior.ts';
import { squeeze2d, unsqueeze2d } from './squeeze.ts';

/** Who runs the flow forward (GlowModel.run): what it computes, and the name its errors carry. */
type RunMode = 'initialize' | 'forward' | 'encode' | 'encodeEps';

/** The flow's output for a batch: every level's latent, and the two parts of log p(y) per image (nats, [B]). */
export interface GlowForward {
  /** z of each split (level 0 first), then the top level's z: together exactly D values per image. */
  latents: tf.Tensor4D[];
  /** log|det ∂f/∂y| per image. */
  logdet: tf.Tensor1D;
  /** log p(z) under the priors (top and every split) per image. */
  logPrior: tf.Tensor1D;
}

export interface DecodeOptions {
  /** int32 class labels [B]; required for a class-conditional model. */
  labels?: tf.Tensor1D;
  /** Scales the prior's standard deviation (Glow's temperature T; default 0.7). */
  temperature?: number;
}

export const DEFAULT_TEMPERATURE = 0.7;

export interface Glow {
  readonly config: GlowConfig;
  /** Trainable parameters by stable name (checkpoints, optimizers and EMA key on these). */
  readonly variables: Map<string, tf.Variable>;
  /** Whether the actnorms have had their data-dependent initialisation (or weights were loaded). */
  readonly initialized: boolean;
  /** Data-dependent initialisation of every actnorm from a batch in flow space (see dequantize). */
  initialize(y: tf.Tensor4D, labels?: tf.Tensor1D): void;
  /** Marks the model initialised without data: after loading trained weights. */
  markInitialized(): void;
  /** y [B, R, R, C] in flow space ([−½, ½), see data.ts) → latents, log-det, log-prior. */
  forward(y: tf.Tensor4D, labels?: tf.Tensor1D): GlowForward;
  /** log p(y) per image in nats: log p(z) + log|det|. */
  logDensity(y: tf.Tensor4D, labels?: tf.Tensor1D): tf.Tensor1D;
  /** Negative log-likelihood of the discrete data in bits/dim per image (data.ts has the definition). */
  bitsPerDim(y: tf.Tensor4D, labels?: tf.Tensor1D): tf.Tensor1D;
  /** The latents alone (the flow does not depend on labels; only the priors do). */
  encode(y: tf.Tensor4D): tf.Tensor4D[];
  /**
   * The standard-normal noise each level's latent corresponds to under its prior, ε = (z − mean)·e^(−logs): the
   * inverse of decodeEps at temperature 1 (decodeEps(encodeEps(y, labels), { labels, temperature: 1 }) = y).
   * On training data a well-fitted model's ε has mean ≈ 0 and standard deviation ≈ 1 per level.
   */
  encodeEps(y: tf.Tensor4D, labels?: tf.Tensor1D): tf.Tensor4D[];
  /** Exact inverse: the latents of `forward`/`encode` back to y. */
  inverse(latents: tf.Tensor4D[]): tf.Tensor4D;
  /**
   * Decodes standard-normal noise (one tensor per latent, shapes of latentShapes) through the priors at a
   * temperature: z = mean + T·σ·ε at the top and at every split, each split's prior conditioned on the
   * levels above it, then the inverse flow. Returns y.
   */
  decodeEps(eps: tf.Tensor4D[], opts?: DecodeOptions): tf.Tensor4D;
  /** Shapes of the latents for a batch of `batch` images, in `latents` order. */
  latentShapes(batch: number): [number, number, number, number][];
  paramCount(): number;
  dispose(): void;
}

interface Level {
  steps: FlowStep[];
  /** Prior of the split after this level; null for the last level. */
  prior: SplitPrior | null;
}

/** Seed offset of the generator that draws the initial rotations (the ParamStore draws the conv kernels). */
const ROTATION_SEED_SALT = 0x5bd1e995;

/**
 * Glow (Kingma & Dhariwal 2018), multi-scale (Dinh et al. 2017): for each of L levels, squeeze 2×2 → K steps
 * of flow → split off half the channels under a learned prior conditioned on the other half; the last level's
 * output goes to a learned (class-conditional) top prior.
 */
class GlowModel extends VariableOwner implements Glow {
  readonly variables: Map<string, tf.Variable>;
  private readonly levels: Level[] = [];
  private readonly top: TopPrior;
  private isInitialized = false;

  constructor(
    readonly config: GlowConfig,
    seed: number,
  ) {
    super();
    validateGlowConfig(config);
    const store = new ParamStore(seed);
    this.variables = store.variables;
    const rotations = new InitRng((seed ^ ROTATION_SEED_SALT) >>> 0);
    const channels = levelChannels(config);
    channels.forEach((c, i) => {
      const steps = Array.from(
        { length: config.depth },
        (_, k) => new FlowStep(store, `levels.${i}.steps.${k}`, c, config.hiddenChannels, config.coupling, rotations),
      );
      const prior =
        i < config.levels - 1 ? new SplitPrior(store, `levels.${i}.prior`, c / 2, c / 2, config.numClasses) : null;
      this.levels.push({ steps, prior });
    });
    this.top = new TopPrior(store, 'top.prior', channels[channels.length - 1]!, config.numClasses);
  }

  get initialized(): boolean {
    return this.isInitialized;
  }

  markInitialized(): void {
    this.isInitialized = true;
  }

  latentShapes(batch: number): [number, number, number, number][] {
    const { resolution, levels } = this.config;
    const channels = levelChannels(this.config);
    return channels.map((c, i) => {
      const side = resolution / 2 ** (i + 1);
      return [batch, side, side, i < levels - 1 ? c / 2 : c];
    });
  }

  private checkInput(y: tf.Tensor4D, where: string): void {
    const { resolution: r, channels: c } = this.config;
    const [, h, w, ch] = y.shape;
    if (h !== r || w !== r || ch !== c)
      throw new RangeError(`glow.${where}: input must be [B, ${r}, ${r}, ${c}], got [${y.shape.join(', ')}]`);
  }

  /** One-hot labels [B, numClasses] for a conditional model (labels required), null otherwise. */
  private oneHot(labels: tf.Tensor1D | undefined, batch: number, where: string): tf.Tensor2D | null {
    const k = this.config.numClasses;
    if (k === undefined) return null;
    if (!labels) throw new RangeError(`glow.${where}: labels are required (the model is conditioned on ${k} classes)`);
    if (labels.shape[0] !== batch)
      throw new RangeError(`glow.${where}: labels must have ${batch} entries, got ${labels.shape[0]}`);
    return tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, k).toFloat() as tf.Tensor2D;
  }

  /**
   * The flow forward, for one of its callers (the name their errors carry): `initialize` and `forward` sum the
   * log-prior; `encode` leaves it at 0 and needs no labels; `encodeEps` returns each latent standardised under its
   * prior instead of the latent (and leaves the log-prior at 0).
   */
  private run(y: tf.Tensor4D, labels: tf.Tensor1D | undefined, mode: RunMode): GlowForward {
    this.checkInput(y, mode);
    installWasmKernelFixes(); // fast Slice/Concat for the channel splits
    const b = y.shape[0];
    const init = mode === 'initialize';
    const logPriorNeeded = init || mode === 'forward';
    return tf.tidy(() => {
      const oneHot = mode === 'encode' ? null : this.oneHot(labels, b, mode);
      let h = y;
      let logdet = tf.zeros([b]) as tf.Tensor1D;
      let logPrior = tf.zeros([b]) as tf.Tensor1D;
      const latents: tf.Tensor4D[] = [];
      for (const level of this.levels) {
        h = squeeze2d(h);
        for (const step of level.steps) {
          const out = step.forward(h, init);
          h = out.y;
          logdet = tf.add(logdet, out.logdet) as tf.Tensor1D;
        }
        let z = h;
        let params = () => this.top.params(oneHot);
        if (level.prior) {
          const [z1, z2] = splitChannels(h, h.shape[3] / 2);
          const prior = level.prior;
          params = () => prior.params(z1, oneHot);
          z = z2;
          h = z1;
        }
        if (logPriorNeeded) logPrior = tf.add(logPrior, gaussianLogProb(z, params())) as tf.Tensor1D;
        else if (mode === 'encodeEps') z = gaussianEps(params(), z);
        latents.push(z);
      }
      return { latents, logdet, logPrior };
    });
  }

  initialize(y: tf.Tensor4D, labels?: tf.Tensor1D): void {
    const out = this.run(y, labels, 'initialize');
    tf.dispose([...out.latents, out.logdet, out.logPrior]);
    this.isInitialized = true;
  }

  forward(y: tf.Tensor4D, labels?: tf.Tensor1D): GlowForward {
    return this.run(y, labels, 'forward');
  }

  encode(y: tf.Tensor4D): tf.Tensor4D[] {
    const out = this.run(y, undefined, 'encode');
    tf.dispose([out.logdet, out.logPrior]);
    return out.latents;
  }

  encodeEps(y: tf.Tensor4D, labels?: tf.Tensor1D): tf.Tensor4D[] {
    const out = this.run(y, labels, 'encodeEps');
    tf.dispose([out.logdet, out.logPrior]);
    return out.latents;
  }

  logDensity(y: tf.Tensor4D, labels?: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => {
      const { logdet, logPrior } = this.forward(y, labels);
      return tf.add(logdet, logPrior) as tf.Tensor1D;
    });
  }

  bitsPerDim(y: tf.Tensor4D, labels?: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() =>
      bitsPerDimFromLogDensity(this.logDensity(y, labels), glowDims(this.config), this.config.nBits),
    );
  }

  /** Runs the levels backwards; `latent(i, params)` gives level i's z (params: that level's prior, lazily). */
  private reverse(
    oneHot: tf.Tensor2D | null,
    latent: (i: number, params: () => GaussianParams) => tf.Tensor4D,
  ): tf.Tensor4D {
    installWasmKernelFixes();
    return tf.tidy(() => {
      const last = this.levels.length - 1;
      let h = latent(last, () => this.top.params(oneHot));
      for (let i = last; i >= 0; i--) {
        const level = this.levels[i]!;
        if (level.prior) {
          const z1 = h;
          h = tf.concat([z1, latent(i, () => level.prior!.params(z1, oneHot))], 3) as tf.Tensor4D;
        }
        for (let k = level.steps.length - 1; k >= 0; k--) h = level.steps[k]!.inverse(h);
        h = unsqueeze2d(h);
      }
      return h;
    });
  }

  private checkLatents(given: tf.Tensor4D[], what: string): number {
    const batch = given[0]?.shape[0] ?? 0;
    const want = this.latentShapes(batch);
    if (given.length !== want.length || given.some((z, i) => z.shape.join() !== want[i]!.join())) {
      throw new RangeError(
        `glow.${what}: expected ${want.length} latents of shapes ${want.map((s) => `[${s.join(', ')}]`).join(' ')}, ` +
          `got ${given.map((z) => `[${z.shape.join(', ')}]`).join(' ')}`,
      );
    }
    return batch;
  }

  inverse(latents: tf.Tensor4D[]): tf.Tensor4D {
    this.checkLatents(latents, 'inverse');
    return this.reverse(null, (i) => latents[i]!);
  }

  decodeEps(eps: tf.Tensor4D[], opts: DecodeOptions = {}): tf.Tensor4D {
    const temperature = opts.temperature ?? DEFAULT_TEMPERATURE;
    if (!(Number.isFinite(temperature) && temperature >= 0))
      throw new RangeError(`glow.temperature must be a number ≥ 0, got ${temperature}`);
    const batch = this.checkLatents(eps, 'decodeEps');
    const oneHot = this.oneHot(opts.labels, batch, 'decodeEps');
    try {
      return this.reverse(oneHot, (i, params) => gaussianSample(params(), eps[i]!, temperature));
    } finally {
      oneHot?.dispose();
    }
  }
}

export function createGlow(config: GlowConfig, seed = 0): Glow {
  return new GlowModel(config, seed);
}
