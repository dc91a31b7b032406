import * as tf from '@tensorflow/tfjs';
import { run, webgpuKernels, type WebGpuKernelArgs } from './register.ts';
import {
  bindings,
  copyFloats,
  f32,
  deviceCaps,
  dispatch,
  grid,
  output,
  subgroupHeader,
  workgroupSum,
  type Uniform,
} from './runtime.ts';

/**
 * The optimizer's per-parameter work on webgpu, over the flat buckets of optim/flat.ts:
 *  - packing variables into a bucket and back (DappleConcatFlat / DappleSplitFlat): buffer-to-buffer copies in
 *    the step's command encoder, no dispatch (as TF.js ops: a concat program per 7 inputs, a slice per variable);
 *  - the global gradient norm and the clipping scale min(1, maxNorm / (‖g‖ + 1e-6)) over every bucket: two
 *    dispatches (per-workgroup partial sums of squares, then one workgroup adds them), nothing read back;
 *  - Adam(W) with the clipping scale, and the EMA of the new weights, in one pass per bucket (DappleAdamEma):
 *    reads p, g, m, v and the EMA once, writes them once. DappleAdam and DappleAxpby are the webgpu versions of
 *    the wasm kernels of optim/fused-updates.ts (Adam without EMA; the EMA alone).
 * Same arithmetic in the same order as the op-by-op path (optim/optimizers.ts, optim/ema.ts).
 */

const CONCAT = 'DappleConcatFlat';
const SPLIT = 'DappleSplitFlat';
const NORM = 'DappleGlobalNorm';
const ADAM = 'DappleAdam';
const AXPBY = 'DappleAxpby';
const ADAM_EMA = 'DappleAdamEma';
const LOSS_SCALE = 'DappleLossScaleStep';
const WG = 256;

function concatKernel({ inputs, backend }: WebGpuKernelArgs): tf.TensorInfo {
  const parts = Object.keys(inputs)
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => inputs[k]!);
  const total = parts.reduce((n, t) => n + tf.util.sizeFromShape(t.shape), 0);
  const out = output(backend, [total]);
  let offset = 0;
  for (const t of parts) {
    const n = tf.util.sizeFromShape(t.shape);
    copyFloats(backend, t, 0, out, offset, n);
    offset += n;
  }
  return out;
}

function splitKernel({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo[] {
  const flat = inputs['flat']!;
  const { shapes } = attrs as { shapes: number[][] };
  let offset = 0;
  return shapes.map((shape) => {
    const out = output(backend, shape);
    const n = tf.util.sizeFromShape(shape);
    copyFloats(backend, flat, offset, out, 0, n);
    offset += n;
    return out;
  });
}

/** Values per workgroup of the partial-sum pass (each thread strides over its workgroup's chunk). */
const CHUNK = WG * 16;

function normKernel({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo[] {
  const flats = Object.keys(inputs)
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => inputs[k]!);
  const { maxNorm } = attrs as { maxNorm: number | null };
  const sizes = flats.map((f) => tf.util.sizeFromShape(f.shape));
  const chunks = sizes.map((n) => Math.max(1, Math.ceil(n / CHUNK)));
  const totalChunks = chunks.reduce((a, b) => a + b, 0);
  const sg = deviceCaps(backend.device).subgroups;
  const h = subgroupHeader(sg);
  const partial = output(backend, [totalChunks]);
  // Bucket j covers workgroups [first[j], first[j] + chunks[j]).
  let first = 0;
  const cases = flats
    .map((_, j) => {
      const c = `if (wg < ${first + chunks[j]!}u) { let c = wg - ${first}u; for (var i = c * ${CHUNK}u + lid; i < min(${sizes[j]}u, (c + 1u) * ${CHUNK}u); i += ${WG}u) { let v = g${j}[i]; s += v * v; } }`;
      first += chunks[j]!;
      return c;
    })
    .join(' else ');
  dispatch(backend, {
    label: `${NORM}Partial`,
    code: `${h.enable}
${bindings([...flats.map((_, j) => ({ name: `g${j}` })), { name: 'partial', access: 'read_write' as const }])}
${workgroupSum(WG, sg)}
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32${h.params}) {
  let wg = wid.x + wid.y * nwg.x;
  var s = 0.0;
  ${cases}
  let t = wgSum(s, lid, ${h.args});
  if (lid == 0u && wg < ${totalChunks}u) { partial[wg] = t; }
}`,
    buffers: [...flats, partial],
    workgroups: grid(totalChunks),
  });
  const norm = output(backend, []);
  const scale = output(backend, []);
  dispatch(backend, {
    label: NORM,
    code: `${h.enable}
${bindings([{ name: 'partial' }, { name: 'out', access: 'read_write' }, { name: 'scale', access: 'read_write' }])}
${workgroupSum(WG, sg)}
@compute @workgroup_size(${WG}) fn main(@builtin(local_invocation_index) lid: u32${h.params}) {
  var s = 0.0;
  for (var i = lid; i < ${totalChunks}u; i += ${WG}u) { s += partial[i]; }
  let norm = sqrt(wgSum(s, lid, ${h.args}));
  if (lid == 0u) {
    out[0] = norm;
    scale[0] = ${maxNorm === null ? '1.0' : `min(1.0, ${f32(maxNorm)} / (norm + 1e-6))`};
  }
}`,
    buffers: [partial, norm, scale],
    workgroups: [1],
  });
  backend.disposeData(partial.dataId);
  return [norm, scale];
}

/**
 * The Adam(W) step's constants, as this kernel takes them and the fused wasm update (optim/fused-updates.ts) too.
 * Defined here, below optim/, which calls both.
 */
export interface AdamConstants {
  beta1: number;
  beta2: number;
  /** lr / (1 − β1ᵗ) */
  stepSize: number;
  /** 1 / √(1 − β2ᵗ) */
  invSqrtBc2: number;
  eps: number;
  /** 1 − lr·λ for AdamW's decoupled decay, 1 for Adam. */
  keep: number;
}

function adamUniforms(c: AdamConstants, emaDecay: number | null): Uniform[] {
  const u: Uniform[] = [
    { type: 'float32', value: c.beta1 },
    { type: 'float32', value: 1 - c.beta1 },
    { type: 'float32', value: c.beta2 },
    { type: 'float32', value: 1 - c.beta2 },
    { type: 'float32', value: c.stepSize },
    { type: 'float32', value: c.invSqrtBc2 },
    { type: 'float32', value: c.eps },
    { type: 'float32', value: c.keep },
  ];
  if (emaDecay !== null) u.push({ type: 'float32', value: emaDecay }, { type: 'float32', value: 1 - emaDecay });
  return u;
}

const ADAM_PARAMS = ['beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'stepSize', 'invSqrtBc2', 'eps', 'keep'].map(
  (name) => ({ name, type: 'f32' as const }),
);

/**
 * Adam(W) (and the EMA of the result); `scale`, a scalar tensor, multiplies the gradient (clipping). With `gated`
 * (loss scaling), `scale` holds two values from DappleLossScaleStep: the multiplier (clipping × 1/S) and whether the
 * step's gradients were finite; where they were not, every output is a copy of its input (the step is skipped).
 */
function adamKernel(withEma: boolean) {
  return ({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo[] => {
    const { p, g, m, v, scale, ema } = inputs;
    const a = attrs as unknown as AdamConstants & { emaDecay: number; gated?: boolean };
    const gated = a.gated === true && scale !== undefined;
    const n = tf.util.sizeFromShape(p!.shape);
    const outs = [output(backend, [n]), output(backend, [n]), output(backend, [n])];
    if (withEma) outs.push(output(backend, [n]));
    const params = withEma
      ? [...ADAM_PARAMS, { name: 'decay', type: 'f32' as const }, { name: 'oneMinusDecay', type: 'f32' as const }]
      : ADAM_PARAMS;
    const [x, y] = grid(Math.ceil(n / WG));
    dispatch(backend, {
      label: withEma ? ADAM_EMA : ADAM,
      code: `${bindings(
        [
          { name: 'p' },
          { name: 'g' },
          { name: 'm' },
          { name: 'v' },
          ...(scale ? [{ name: 'scale' }] : []),
          ...(withEma ? [{ name: 'ema' }] : []),
          { name: 'p2', access: 'read_write' as const },
          { name: 'm2', access: 'read_write' as const },
          { name: 'v2', access: 'read_write' as const },
          ...(withEma ? [{ name: 'ema2', access: 'read_write' as const }] : []),
        ],
        params,
      )}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * ${x * WG}u;
  if (i >= ${n}u) { return; }
  ${gated ? `if (scale[1] == 0.0) { p2[i] = p[i]; m2[i] = m[i]; v2[i] = v[i];${withEma ? ' ema2[i] = ema[i];' : ''} return; }` : ''}
  let gs = g[i]${scale ? ' * scale[0]' : ''};
  let mm = m[i] * params.beta1 + gs * params.oneMinusBeta1;
  let vv = v[i] * params.beta2 + (gs * gs) * params.oneMinusBeta2;
  let update = (mm * params.stepSize) / (sqrt(vv) * params.invSqrtBc2 + params.eps);
  let pp = p[i] * params.keep - update;
  m2[i] = mm; v2[i] = vv; p2[i] = pp;
  ${withEma ? 'ema2[i] = ema[i] * params.decay + pp * params.oneMinusDecay;' : ''}
}`,
      buffers: [p!, g!, m!, v!, ...(scale ? [scale] : []), ...(withEma ? [ema!] : []), ...outs],
      uniforms: adamUniforms(a, withEma ? a.emaDecay : null),
      workgroups: [x, y],
    });
    return outs;
  };
}

function axpbyKernel({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo {
  const { x: xi, y: yi } = inputs;
  const { a, b } = attrs as { a: number; b: number };
  const n = tf.util.sizeFromShape(xi!.shape);
  const out = output(backend, [n]);
  const [x, y] = grid(Math.ceil(n / WG));
  dispatch(backend, {
    label: AXPBY,
    code: `${bindings(
      [{ name: 'xs' }, { name: 'ys' }, { name: 'out', access: 'read_write' }],
      [
        { name: 'a', type: 'f32' },
        { name: 'b', type: 'f32' },
      ],
    )}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * ${x * WG}u;
  if (i < ${n}u) { out[i] = xs[i] * params.a + ys[i] * params.b; }
}`,
    buffers: [xi!, yi!, out],
    uniforms: [
      { type: 'float32', value: a },
      { type: 'float32', value: b },
    ],
    workgroups: [x, y],
  });
  return out;
}

/**
 * Dynamic loss scaling's per-step bookkeeping, on the device (nothing is read back). Inputs: `norms`, the global
 * norms of the *scaled* gradient over groups of buckets (DappleGlobalNorm without clipping), and `state` =
 * [S, finite steps in a row, skipped steps in all, whether the last step was skipped]. Outputs: the unscaled norm
 * ‖g‖ = ‖S·g‖ / S, `gate` = [min(1, maxNorm / (‖g‖ + 1e-6)) / S, 1 if ‖g‖ is finite else 0] for the gated Adam
 * kernel, and the next state: S halves after a non-finite step, doubles after `growthInterval` finite ones.
 * S is a power of two, so scaling and unscaling are exact: with finite gradients the update is the fp32 one.
 * The finiteness test looks at the exponent bits (all ones: inf or NaN), which a compiler that assumes no
 * NaN/inf in float math (WGSL allows it) cannot fold away as it may `x != x`. The sum of squares is of S·g: it
 * overflows f32 only when S·‖g‖ > 1.8e19, and then counts as an overflow like any other (the step is skipped).
 */
function lossScaleKernel({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo[] {
  const { norms, state } = inputs;
  const { maxNorm, growthInterval } = attrs as { maxNorm: number | null; growthInterval: number };
  const groups = tf.util.sizeFromShape(norms!.shape);
  const norm = output(backend, []);
  const gate = output(backend, [2]);
  const next = output(backend, [4]);
  dispatch(backend, {
    label: LOSS_SCALE,
    code: `${bindings([
      { name: 'norms' },
      { name: 'state' },
      { name: 'norm', access: 'read_write' },
      { name: 'gate', access: 'read_write' },
      { name: 'next', access: 'read_write' },
    ])}
@compute @workgroup_size(1) fn main() {
  var s = 0.0;
  for (var i = 0u; i < ${groups}u; i++) { let n = norms[i]; s += n * n; }
  let scale = state[0];
  let g = sqrt(s) / scale;
  let finite = (bitcast<u32>(g) & 0x7f800000u) != 0x7f800000u;
  norm[0] = g;
  gate[0] = ${maxNorm === null ? '1.0' : `min(1.0, ${f32(maxNorm)} / (g + 1e-6))`} / scale;
  gate[1] = select(0.0, 1.0, finite);
  if (finite) {
    let good = state[1] + 1.0;
    let grow = good >= ${f32(growthInterval)};
    next[0] = select(scale, scale * 2.0, grow);
    next[1] = select(good, 0.0, grow);
    next[2] = state[2];
    next[3] = 0.0;
  } else {
    next[0] = scale * 0.5;
    next[1] = 0.0;
    next[2] = state[2] + 1.0;
    next[3] = 1.0;
  }
}`,
    buffers: [norms!, state!, norm, gate, next],
    workgroups: [1],
  });
  return [norm, gate, next];
}

const available = webgpuKernels({
  [LOSS_SCALE]: lossScaleKernel,
  [CONCAT]: concatKernel,
  [SPLIT]: splitKernel,
  [NORM]: normKernel,
  [ADAM]: adamKernel(false),
  [ADAM_EMA]: adamKernel(true),
  [AXPBY]: axpbyKernel,
});

/** Whether the webgpu optimizer kernels run here (the webgpu backend with the internals they need). */
export function webgpuOptimAvailable(): boolean {
  return available();
}

/** The most buckets one norm dispatch binds (the rest of the storage bindings hold the output). */
export function maxNormInputs(): number {
  const b = tf.backend() as unknown as { device?: GPUDevice };
  return Math.max(1, (b.device?.limits.maxStorageBuffersPerShaderStage ?? 8) - 1);
}

/**
 * ‖g‖ over all `flats` and the clipping scale min(1, maxNorm / (‖g‖ + 1e-6)) (undefined without maxNorm), as scalar
 * tensors computed on the GPU: two dispatches per group of at most maxStorageBuffers − 1 buckets (several groups
 * are combined with ops).
 */
export function webgpuGlobalNorm(flats: tf.Tensor1D[], maxNorm: number | undefined): [tf.Scalar, tf.Scalar?] {
  const limit = maxNormInputs();
  const group = (fs: tf.Tensor1D[], m: number | null) => {
    const inputs: Record<string, tf.Tensor> = {};
    fs.forEach((f, j) => (inputs[String(j)] = f));
    return run<tf.Scalar[]>(NORM, inputs, { maxNorm: m });
  };
  if (flats.length <= limit) {
    const [norm, scale] = group(flats, maxNorm ?? null);
    if (maxNorm !== undefined) return [norm!, scale!];
    scale!.dispose();
    return [norm!];
  }
  return tf.tidy(() => {
    const norms: tf.Tensor[] = [];
    for (let i = 0; i < flats.length; i += limit) norms.push(group(flats.slice(i, i + limit), null)[0]!);
    const norm = tf.sqrt(tf.sum(tf.square(tf.stack(norms)))) as tf.Scalar;
    if (maxNorm === undefined) return [norm] as [tf.Scalar];
    return [norm, tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6))) as tf.Scalar] as [tf.Scalar, tf.Scalar];
  });
}

/** Adam(W) over one bucket and the EMA of its new weights: [p′, m′, v′, ema′]; `scale` multiplies the gradient. */
export function webgpuAdamEma(
  p: tf.Tensor1D,
  g: tf.Tensor1D,
  m: tf.Tensor1D,
  v: tf.Tensor1D,
  ema: tf.Tensor1D,
  c: AdamConstants,
  emaDecay: number,
  scale?: tf.Tensor,
  gated = false,
): tf.Tensor1D[] {
  return run<tf.Tensor1D[]>(ADAM_EMA, { p, g, m, v, scale, ema }, { ...c, emaDecay, gated });
}

/**
 * One step of dynamic loss scaling over the buckets of the scaled gradient S·g (see lossScaleKernel): the unscaled
 * norm, the gate for webgpuAdamEma(…, gated = true) and the next state [S, good, skipped, lastSkipped].
 */
export function webgpuLossScaleStep(
  flats: tf.Tensor1D[],
  state: tf.Tensor1D,
  maxNorm: number | undefined,
  growthInterval: number,
): { norm: tf.Scalar; gate: tf.Tensor1D; next: tf.Tensor1D } {
  const [scaledNorm] = webgpuGlobalNorm(flats, undefined);
  const norms = tf.reshape(scaledNorm, [1]);
  try {
    const [norm, gate, next] = run<tf.Tensor[]>(
      LOSS_SCALE,
      { norms, state },
      { maxNorm: maxNorm ?? null, growthInterval },
    );
    return { norm: norm as tf.Scalar, gate: gate as tf.Tensor1D, next: next as tf.Tensor1D };
  } finally {
    tf.dispose([scaledNorm, norms]);
  }
}
