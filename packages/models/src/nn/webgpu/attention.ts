import * as tf from '@tensorflow/tfjs';
import { customOp } from '../custom-op.ts';
import { run, webgpuKernels, type WebGpuKernelArgs } from './register.ts';
import { bindings, dispatch, output, type Uniform } from './runtime.ts';

/**
 * Single-head attention softmax(s·QKᵀ)·V over [B, N, C] as one WGSL kernel forward and two backward, in the
 * manner of FlashAttention: a workgroup takes 16 query rows, walks the keys 16 at a time keeping a running max and
 * sum per row (online softmax), and never writes the N×N matrix. It saves log Σ exp per row ([B, N]); the backward
 * kernels recompute the probabilities from it. One workgroup per (sample, 16 keys) accumulates dK and dV over all
 * queries; one per (sample, 16 queries) accumulates dQ over all keys; each recomputes D_i = Σ_c dO·O for its rows.
 * As TF.js ops the two batched products ran one matMul per sample each way (plus transposes, softmax and its
 * gradient): O(B) dispatches per attention block.
 *   P = exp(s·q·kᵀ − lse),  dV = Pᵀ·dO,  dS = P∘(dO·Vᵀ − D),  dQ = s·dS·K,  dK = s·dSᵀ·Q.
 */

const FWD = 'DappleAttention';
const DKV = 'DappleAttentionGradKV';
const DQ = 'DappleAttentionGradQ';
const T = 16; // rows (queries or keys) per workgroup, and lanes per row

/**
 * N, C and the scale come from a uniform buffer, not constants: with constant trip counts LLVM (lavapipe) unrolled
 * the dot-product loops completely and took minutes to compile one pipeline; one pipeline now serves every shape
 * with the same channels-per-lane count.
 */
const PARAMS = [
  { name: 'n', type: 'u32' as const },
  { name: 'c', type: 'u32' as const },
  { name: 'scale', type: 'f32' as const },
  { name: 't', type: 'u32' as const },
];

function consts(shape: number[]): string {
  const c = shape[2]!;
  return `const T = ${T}u;
const CPL = ${Math.ceil(c / T)}u; // channels per lane
fn N() -> u32 { return params.n; }
fn C() -> u32 { return params.c; }`;
}

function uniforms(shape: number[], scale: number): Uniform[] {
  return [
    { type: 'uint32', value: shape[1]! },
    { type: 'uint32', value: shape[2]! },
    { type: 'float32', value: scale },
    { type: 'uint32', value: T },
  ];
}

function forwardKernel({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo[] {
  const { q, k, v } = inputs;
  const { scale } = attrs as { scale: number };
  const [b, n, c] = q!.shape as [number, number, number];
  const o = output(backend, [b, n, c]);
  const lse = output(backend, [b, n]);
  dispatch(backend, {
    label: FWD,
    code: `${bindings(
      [
        { name: 'q' },
        { name: 'k' },
        { name: 'v' },
        { name: 'o', access: 'read_write' },
        { name: 'lse', access: 'read_write' },
      ],
      PARAMS,
    )}
${consts(q!.shape)}
var<workgroup> S: array<f32, ${T * T}>;
@compute @workgroup_size(${T * T}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bi = wid.y;
  let r = lid / T;                 // query row within the block
  let lane = lid % T;
  let i = wid.x * T + r;           // query index
  let qi = min(i, N() - 1u);
  var acc: array<f32, ${Math.ceil(c / T)}>;
  var m = -3.4e38; var l = 0.0;
  for (var j0 = 0u; j0 < N(); j0 += T) {
    let j = j0 + lane;
    var s = -3.4e38;
    if (j < N()) {
      var d = 0.0;
      for (var ch = 0u; ch < C(); ch++) { d = fma(q[(bi * N() + qi) * C() + ch], k[(bi * N() + j) * C() + ch], d); }
      s = d * params.scale;
    }
    workgroupBarrier();
    S[r * T + lane] = s;
    workgroupBarrier();
    var mx = m;
    for (var t = 0u; t < params.t; t++) { mx = max(mx, S[r * T + t]); }
    let corr = exp(m - mx);
    l *= corr;
    for (var u = 0u; u < CPL; u++) { acc[u] *= corr; }
    for (var t = 0u; t < params.t; t++) {
      let jj = j0 + t;
      if (jj >= N()) { break; }
      let p = exp(S[r * T + t] - mx);
      l += p;
      for (var u = 0u; u < CPL; u++) {
        let ch = lane + u * T;
        if (ch < C()) { acc[u] = fma(p, v[(bi * N() + jj) * C() + ch], acc[u]); }
      }
    }
    m = mx;
  }
  if (i < N()) {
    for (var u = 0u; u < CPL; u++) {
      let ch = lane + u * T;
      if (ch < C()) { o[(bi * N() + i) * C() + ch] = acc[u] / l; }
    }
    if (lane == 0u) { lse[bi * N() + i] = m + log(l); }
  }
}`,
    buffers: [q!, k!, v!, o, lse],
    uniforms: uniforms(q!.shape, scale),
    workgroups: [Math.ceil(n / T), b],
  });
  return [o, lse];
}

/** WGSL shared by both backward kernels: D_i = Σ_c dO_ic·O_ic and the recomputed P_ij and dS_ij. */
const BACKWARD_HELPERS = `
fn dotRows(a: u32, b: u32) -> f32 {   // q·k of two rows (a of q, b of k), scaled
  var d = 0.0;
  for (var ch = 0u; ch < C(); ch++) { d = fma(q[a * C() + ch], k[b * C() + ch], d); }
  return d * params.scale;
}
fn dOdotV(a: u32, b: u32) -> f32 {
  var d = 0.0;
  for (var ch = 0u; ch < C(); ch++) { d = fma(dout[a * C() + ch], v[b * C() + ch], d); }
  return d;
}
fn rowD(a: u32) -> f32 {
  var d = 0.0;
  for (var ch = 0u; ch < C(); ch++) { d = fma(dout[a * C() + ch], o[a * C() + ch], d); }
  return d;
}`;

const BACKWARD_BINDINGS = [
  { name: 'q' },
  { name: 'k' },
  { name: 'v' },
  { name: 'o' },
  { name: 'lse' },
  { name: 'dout' },
];

function gradKVKernel({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo[] {
  const { q, k, v, o, lse, dy } = inputs;
  const { scale } = attrs as { scale: number };
  const [b, n, c] = q!.shape as [number, number, number];
  const dk = output(backend, [b, n, c]);
  const dv = output(backend, [b, n, c]);
  dispatch(backend, {
    label: DKV,
    code: `${bindings(
      [
        ...BACKWARD_BINDINGS,
        { name: 'dk', access: 'read_write' as const },
        { name: 'dv', access: 'read_write' as const },
      ],
      PARAMS,
    )}
${consts(q!.shape)}
${BACKWARD_HELPERS}
var<workgroup> P: array<f32, ${T * T}>;   // [key][query]
var<workgroup> DS: array<f32, ${T * T}>;
var<workgroup> Drow: array<f32, ${T}>;
var<workgroup> Lrow: array<f32, ${T}>;
@compute @workgroup_size(${T * T}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bi = wid.y;
  let r = lid / T;                 // key row within the block
  let lane = lid % T;
  let j = wid.x * T + r;           // key index
  let kj = bi * N() + min(j, N() - 1u);
  var accK: array<f32, ${Math.ceil(c / T)}>;
  var accV: array<f32, ${Math.ceil(c / T)}>;
  for (var i0 = 0u; i0 < N(); i0 += T) {
    workgroupBarrier();
    if (r == 0u) {                 // the first row's threads compute D and lse for the 16 queries
      let ii = min(i0 + lane, N() - 1u);
      Drow[lane] = rowD(bi * N() + ii);
      Lrow[lane] = lse[bi * N() + ii];
    }
    workgroupBarrier();
    let i = i0 + lane;             // this thread's query
    var p = 0.0; var ds = 0.0;
    if (i < N() && j < N()) {
      let qi = bi * N() + i;
      p = exp(dotRows(qi, kj) - Lrow[lane]);
      ds = p * (dOdotV(qi, kj) - Drow[lane]);
    }
    P[r * T + lane] = p;
    DS[r * T + lane] = ds;
    workgroupBarrier();
    for (var t = 0u; t < params.t; t++) {
      let ii = i0 + t;
      if (ii >= N()) { break; }
      let pp = P[r * T + t]; let dd = DS[r * T + t];
      for (var u = 0u; u < CPL; u++) {
        let ch = lane + u * T;
        if (ch < C()) {
          accV[u] = fma(pp, dout[(bi * N() + ii) * C() + ch], accV[u]);
          accK[u] = fma(dd, q[(bi * N() + ii) * C() + ch], accK[u]);
        }
      }
    }
  }
  if (j < N()) {
    for (var u = 0u; u < CPL; u++) {
      let ch = lane + u * T;
      if (ch < C()) { dk[kj * C() + ch] = accK[u] * params.scale; dv[kj * C() + ch] = accV[u]; }
    }
  }
}`,
    buffers: [q!, k!, v!, o!, lse!, dy!, dk, dv],
    uniforms: uniforms(q!.shape, scale),
    workgroups: [Math.ceil(n / T), b],
  });
  return [dk, dv];
}

function gradQKernel({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo {
  const { q, k, v, o, lse, dy } = inputs;
  const { scale } = attrs as { scale: number };
  const [b, n, c] = q!.shape as [number, number, number];
  const dq = output(backend, [b, n, c]);
  dispatch(backend, {
    label: DQ,
    code: `${bindings([...BACKWARD_BINDINGS, { name: 'dq', access: 'read_write' as const }], PARAMS)}
${consts(q!.shape)}
${BACKWARD_HELPERS}
var<workgroup> DS: array<f32, ${T * T}>;   // [query][key]
@compute @workgroup_size(${T * T}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let bi = wid.y;
  let r = lid / T;                 // query row within the block
  let lane = lid % T;
  let i = wid.x * T + r;
  let qi = bi * N() + min(i, N() - 1u);
  let d = rowD(qi);
  let l = lse[qi];
  var acc: array<f32, ${Math.ceil(c / T)}>;
  for (var j0 = 0u; j0 < N(); j0 += T) {
    let j = j0 + lane;
    var ds = 0.0;
    if (j < N()) {
      let kj = bi * N() + j;
      let p = exp(dotRows(qi, kj) - l);
      ds = p * (dOdotV(qi, kj) - d);
    }
    workgroupBarrier();
    DS[r * T + lane] = ds;
    workgroupBarrier();
    for (var t = 0u; t < params.t; t++) {
      let jj = j0 + t;
      if (jj >= N()) { break; }
      let dd = DS[r * T + t];
      for (var u = 0u; u < CPL; u++) {
        let ch = lane + u * T;
        if (ch < C()) { acc[u] = fma(dd, k[(bi * N() + jj) * C() + ch], acc[u]); }
      }
    }
  }
  if (i < N()) {
    for (var u = 0u; u < CPL; u++) {
      let ch = lane + u * T;
      if (ch < C()) { dq[qi * C() + ch] = acc[u] * params.scale; }
    }
  }
}`,
    buffers: [q!, k!, v!, o!, lse!, dy!, dq],
    uniforms: uniforms(q!.shape, scale),
    workgroups: [Math.ceil(n / T), b],
  });
  return dq;
}

const available = webgpuKernels({ [FWD]: forwardKernel, [DKV]: gradKVKernel, [DQ]: gradQKernel });

/** Whether the fused attention runs here: the webgpu backend, ≤ 65535 samples and query blocks. */
export function webgpuAttentionFits(b: number, n: number): boolean {
  return b <= 65535 && Math.ceil(n / T) <= 65535 && available();
}

/** softmax(scale·q·kᵀ)·v for q, k, v [B, N, C], with gradients for all three. */
export function webgpuAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, scale: number): tf.Tensor3D {
  if (!available()) throw new Error('the webgpu backend is not active (or lacks what our kernels need)');
  const op = customOp<tf.Tensor3D>((ins, save) => {
    const [qi, ki, vi] = ins as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const [o, lse] = run<tf.Tensor[]>(FWD, { q: qi, k: ki, v: vi }, { scale });
    save([qi, ki, vi, o!, lse!]);
    return {
      value: o as tf.Tensor3D,
      gradFunc: (dy, saved) => {
        const [qs, ks, vs, os, ls] = saved;
        const inputs = { q: qs, k: ks, v: vs, o: os, lse: ls, dy };
        const [dk, dv] = run<tf.Tensor[]>(DKV, inputs, { scale });
        const dq = run<tf.Tensor>(DQ, inputs, { scale });
        return [dq, dk!, dv!];
      },
    };
  });
  return op(q, k, v);
}
