import * as tf from '@tensorflow/tfjs';
import { customOp } from '../custom-op.ts';
import { run, webgpuKernels, type WebGpuKernelArgs } from './register.ts';
import {
  bindings,
  deviceCaps,
  dispatch,
  f32,
  grid,
  output,
  subgroupHeader,
  workgroupSum,
  type WebGpuBackendInternals,
} from './runtime.ts';

/**
 * GroupNorm (+ a per-sample channel bias added to its input first: the UNet's timestep embedding) (+ SiLU) as one
 * WGSL kernel forward and one (plus a [B,C] → [C] reduction) backward. As TF.js ops the pair was ~14 dispatches
 * forward and ~20 backward per layer. One workgroup per (sample, group) holds the group's statistics; the
 * backward pass recomputes x̂, z and σ(z) from x instead of keeping them, so a layer saves only its input and
 * [B, G, 2] statistics.
 *
 * Backward, per group of N = HW·C/G elements (r = 1/σ, dz = dy·silu′(z)):
 *   dx = r·(γ·dz − (Σγ·dz + x̂·Σγ·dz·x̂)/N),  dγ = Σ dz·x̂,  dβ = Σ dz,  dbias[b,c] = Σ_hw dx.
 */

const FWD = 'DappleGroupNormForward';
const BWD = 'DappleGroupNormBackward';
const WG = 256;

interface GnAttrs {
  groups: number;
  eps: number;
  silu: boolean;
}

function shapes(x: tf.TensorInfo, groups: number) {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  return { b, p: h * w, c, g: groups, cg: c / groups };
}

/** Per-thread channel layout: threads step by `step` (a multiple of CG), so each keeps one channel. */
function layout(cg: number) {
  return { step: Math.floor(WG / cg) * cg };
}

function forwardCode(b: WebGpuBackendInternals, x: tf.TensorInfo, a: GnAttrs, hasBias: boolean): string {
  const { p, c, g, cg } = shapes(x, a.groups);
  const sg = deviceCaps(b.device).subgroups;
  const h = subgroupHeader(sg);
  const n = p * cg;
  const { step } = layout(cg);
  const load = hasBias ? 'x[(b * P + q) * C + ch] + bias[b * C + ch]' : 'x[(b * P + q) * C + ch]';
  return `${h.enable}
${bindings([
  { name: 'x' },
  { name: 'gamma' },
  { name: 'beta' },
  ...(hasBias ? [{ name: 'bias' }] : []),
  { name: 'y', access: 'read_write' as const },
  { name: 'stats', access: 'read_write' as const },
])}
const P = ${p}u; const C = ${c}u; const G = ${g}u; const CG = ${cg}u; const N = ${n}u; const STEP = ${step}u;
${workgroupSum(WG, sg)}
fn load(b: u32, q: u32, ch: u32) -> f32 { return ${load}; }
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32${h.params}) {
  let bg = wid.x + wid.y * nwg.x;
  let b = bg / G;
  let ch = (bg % G) * CG + lid % CG;
  let live = lid < STEP && b < ${x.shape[0]!}u;
  var s = 0.0;
  if (live) { for (var i = lid; i < N; i += STEP) { s += load(b, i / CG, ch); } }
  let mean = wgSum(s, lid, ${h.args}) / f32(N);
  var v = 0.0;
  if (live) { for (var i = lid; i < N; i += STEP) { let d = load(b, i / CG, ch) - mean; v += d * d; } }
  let rstd = inverseSqrt(wgSum(v, lid, ${h.args}) / f32(N) + ${f32(a.eps)});
  if (live) {
    let k = rstd * gamma[ch];
    let off = beta[ch] - mean * k;
    for (var i = lid; i < N; i += STEP) {
      let q = i / CG;
      let z = load(b, q, ch) * k + off;
      ${a.silu ? 'y[(b * P + q) * C + ch] = z / (1.0 + exp(-z));' : 'y[(b * P + q) * C + ch] = z;'}
    }
    if (lid == 0u) { stats[2u * bg] = mean; stats[2u * bg + 1u] = rstd; }
  }
}`;
}

function backwardCode(b: WebGpuBackendInternals, x: tf.TensorInfo, a: GnAttrs, hasBias: boolean): string {
  const { b: batch, p, c, g, cg } = shapes(x, a.groups);
  const sg = deviceCaps(b.device).subgroups;
  const h = subgroupHeader(sg);
  const n = p * cg;
  const { step } = layout(cg);
  const load = hasBias ? 'x[(b * P + q) * C + ch] + bias[b * C + ch]' : 'x[(b * P + q) * C + ch]';
  // dz from dy: SiLU′(z) = σ + z·σ·(1 − σ).
  const dz = a.silu
    ? 'let z = xh * gm + bt; let sg = 1.0 / (1.0 + exp(-z)); let dz = dy[idx] * (sg + z * sg * (1.0 - sg));'
    : 'let dz = dy[idx];';
  return `${h.enable}
${bindings([
  { name: 'dy' },
  { name: 'x' },
  { name: 'gamma' },
  { name: 'beta' },
  ...(hasBias ? [{ name: 'bias' }] : []),
  { name: 'stats' },
  { name: 'dx', access: 'read_write' as const },
  { name: 'partial', access: 'read_write' as const },
  ...(hasBias ? [{ name: 'dbias', access: 'read_write' as const }] : []),
])}
const P = ${p}u; const C = ${c}u; const G = ${g}u; const CG = ${cg}u; const N = ${n}u; const STEP = ${step}u;
${workgroupSum(WG, sg)}
var<workgroup> chan_: array<f32, ${WG}>;
// Σ over the threads that hold channel lid % CG; every thread gets its channel's sum.
fn channelSum(v: f32, lid: u32) -> f32 {
  workgroupBarrier();
  chan_[lid] = v;
  workgroupBarrier();
  var t = 0.0;
  for (var j = lid % CG; j < STEP; j += CG) { t += chan_[j]; }
  return t;
}
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32${h.params}) {
  let bg = wid.x + wid.y * nwg.x;
  let b = bg / G;
  let ch = (bg % G) * CG + lid % CG;
  let live = lid < STEP && b < ${batch}u;
  let mean = stats[2u * min(bg, ${batch * g - 1}u)];
  let rstd = stats[2u * min(bg, ${batch * g - 1}u) + 1u];
  var gm = 0.0; var bt = 0.0;
  if (live) { gm = gamma[ch]; bt = beta[ch]; }
  var sDz = 0.0; var sDzX = 0.0;
  if (live) {
    for (var i = lid; i < N; i += STEP) {
      let q = i / CG; let idx = (b * P + q) * C + ch;
      let xh = (load(b, q, ch) - mean) * rstd;
      ${dz}
      sDz += dz; sDzX += dz * xh;
    }
  }
  let a1 = wgSum(sDz * gm, lid, ${h.args});
  let a2 = wgSum(sDzX * gm, lid, ${h.args});
  let cDz = channelSum(sDz, lid);
  let cDzX = channelSum(sDzX, lid);
  var sDx = 0.0;
  if (live) {
    for (var i = lid; i < N; i += STEP) {
      let q = i / CG; let idx = (b * P + q) * C + ch;
      let xh = (load(b, q, ch) - mean) * rstd;
      ${dz}
      let d = rstd * (gm * dz - (a1 + xh * a2) / f32(N));
      dx[idx] = d;
      sDx += d;
    }
  }
  ${hasBias ? 'let cDx = channelSum(sDx, lid);' : ''}
  if (live && lid < CG) {
    partial[(b * 2u) * C + ch] = cDzX;
    partial[(b * 2u + 1u) * C + ch] = cDz;
    ${hasBias ? 'dbias[b * C + ch] = cDx;' : ''}
  }
}
fn load(b: u32, q: u32, ch: u32) -> f32 { return ${load}; }`;
}

/** [B, 2, C] per-sample partial sums → dγ [C], dβ [C]. */
function reduceCode(batch: number, c: number): string {
  return `${bindings([
    { name: 'partial' },
    { name: 'dgamma', access: 'read_write' },
    { name: 'dbeta', access: 'read_write' },
  ])}
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= ${2 * c}u) { return; }
  let which = i / ${c}u; let ch = i % ${c}u;
  var s = 0.0;
  for (var b = 0u; b < ${batch}u; b++) { s += partial[(b * 2u + which) * ${c}u + ch]; }
  if (which == 0u) { dgamma[ch] = s; } else { dbeta[ch] = s; }
}`;
}

function forwardKernel({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo[] {
  const { x, gamma, beta, bias } = inputs as Record<string, tf.TensorInfo>;
  const a = attrs as unknown as GnAttrs;
  const { b, g } = shapes(x!, a.groups);
  const y = output(backend, x!.shape);
  const stats = output(backend, [b, g, 2]);
  dispatch(backend, {
    label: FWD,
    code: forwardCode(backend, x!, a, !!bias),
    buffers: [x!, gamma!, beta!, ...(bias ? [bias] : []), y, stats],
    workgroups: grid(b * g),
  });
  return [y, stats];
}

function backwardKernel({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo[] {
  const { dy, x, gamma, beta, bias, stats } = inputs as Record<string, tf.TensorInfo>;
  const a = attrs as unknown as GnAttrs;
  const { b, c, g } = shapes(x!, a.groups);
  const dx = output(backend, x!.shape);
  const partial = output(backend, [b, 2, c]);
  const dbias = bias ? output(backend, [b, c]) : null;
  dispatch(backend, {
    label: BWD,
    code: backwardCode(backend, x!, a, !!bias),
    buffers: [dy!, x!, gamma!, beta!, ...(bias ? [bias] : []), stats!, dx, partial, ...(dbias ? [dbias] : [])],
    workgroups: grid(b * g),
  });
  const dgamma = output(backend, [c]);
  const dbeta = output(backend, [c]);
  dispatch(backend, {
    label: `${BWD}Reduce`,
    code: reduceCode(b, c),
    buffers: [partial, dgamma, dbeta],
    workgroups: [Math.ceil((2 * c) / 64)],
  });
  backend.disposeData(partial.dataId);
  return dbias ? [dx, dgamma, dbeta, dbias] : [dx, dgamma, dbeta];
}

const available = webgpuKernels({ [FWD]: forwardKernel, [BWD]: backwardKernel });

/** Whether the fused kernels run here: the webgpu backend, float32 NHWC, at most 256 channels per group. */
export function webgpuGroupNormFits(channels: number, groups: number): boolean {
  return channels % groups === 0 && channels / groups <= WG && available();
}

/**
 * GroupNorm(x + bias[b, c])·γ + β, then SiLU if `silu`, with gradients for x, γ, β (and bias). `bias` [B, C] is
 * optional.
 */
export function webgpuGroupNorm(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  groups: number,
  opts: { silu: boolean; eps: number; bias?: tf.Tensor2D },
): tf.Tensor4D {
  if (!available()) throw new Error('the webgpu backend is not active (or lacks what our kernels need)');
  const attrs: GnAttrs = { groups, eps: opts.eps, silu: opts.silu };
  const op = customOp<tf.Tensor4D>((ins, save) => {
    const [xi, gi, bi, bias] = ins as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor2D?];
    const [y, stats] = run<tf.Tensor[]>(FWD, { x: xi, gamma: gi, beta: bi, bias }, { ...attrs });
    save(bias ? [xi, gi, bi, stats!, bias] : [xi, gi, bi, stats!]);
    return {
      value: y as tf.Tensor4D,
      gradFunc: (dy, saved) => {
        const [xs, gs, bs, st, bis] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor, tf.Tensor2D?];
        return run<tf.Tensor[]>(BWD, { dy, x: xs, gamma: gs, beta: bs, bias: bis, stats: st }, { ...attrs });
      },
    };
  });
  const out = opts.bias ? op(x, gamma, beta, opts.bias) : op(x, gamma, beta);
  return out;
}
