import * as tf from '@tensorflow/tfjs';
import { customOp } from '../custom-op.ts';
import { gemmCode, gemmWorkgroups, type GemmSpec } from './gemm.ts';
import { run, webgpuKernels, type WebGpuKernelArgs } from './register.ts';
import { bindings, deviceCaps, dispatch, output, type WebGpuBackendInternals } from './runtime.ts';

/**
 * 2D convolution (NHWC, SAME padding, odd square kernels, stride 1 or 2) as implicit GEMMs (gemm.ts), forward
 * with the bias and an optional residual added in the epilogue (the UNet's `skip + conv2(h)`), and both
 * gradients: dx as a GEMM over (tap, output channel) reading the filter transposed in place, dW and db together
 * as one GEMM over every output pixel of the batch (db is an extra row of ones), split along K when the batch is
 * large and then summed by a small second dispatch. Replaces TF.js' fused conv forward, Conv2DBackpropInput,
 * Conv2DBackpropFilter (a per-element loop over the batch) and the bias-gradient reduction.
 */

const FWD = 'DappleConv2D';
const DX = 'DappleConv2DInputGrad';
const DW = 'DappleConv2DFilterGrad';

interface ConvAttrs {
  stride: number;
}

interface Geometry {
  b: number;
  h: number;
  w: number;
  cin: number;
  k: number;
  cout: number;
  s: number;
  ho: number;
  wo: number;
  padT: number;
  padL: number;
}

function samePad(inSize: number, k: number, s: number): { out: number; before: number } {
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + k - inSize, 0);
  return { out, before: Math.floor(total / 2) };
}

function geometry(x: number[], w: number[], s: number): Geometry {
  const [b, h, wd, cin] = x as [number, number, number, number];
  const [k, , , cout] = w as [number, number, number, number];
  const ph = samePad(h, k, s);
  const pw = samePad(wd, k, s);
  return { b, h, w: wd, cin, k, cout, s, ho: ph.out, wo: pw.out, padT: ph.before, padL: pw.before };
}

function consts(g: Geometry): string {
  return `const B = ${g.b}u; const H = ${g.h}u; const W = ${g.w}u; const CIN = ${g.cin}u; const KW = ${g.k}u;
const COUT = ${g.cout}u; const S = ${g.s}u; const HO = ${g.ho}u; const WO = ${g.wo}u;
const PAD_T = ${g.padT}; const PAD_L = ${g.padL};`;
}

/** Whether this GEMM stages its tiles in f16: asked for (setWebGpuConvF16) and offered by the device. */
function f16(b: WebGpuBackendInternals): boolean {
  return deviceCaps(b.device).f16 && f16Wanted;
}

/** Dispatches one of the conv GEMMs, counting it when its tiles are f16 (f16GemmDispatches). */
function dispatchGemm(backend: WebGpuBackendInternals, label: string, spec: GemmSpec, buffers: tf.TensorInfo[]): void {
  if (spec.f16) f16Dispatches++;
  dispatch(backend, { label, code: gemmCode(spec), buffers, workgroups: gemmWorkgroups(spec) });
}

let f16Wanted = false;
/**
 * Stage GEMM tiles in f16 where the device has shader-f16 (products and sums stay f32). Off by default: inputs
 * rounded to f16 change results at the 1e-3 level.
 */
export function setWebGpuConvF16(on: boolean): void {
  f16Wanted = on;
}

let f16Dispatches = 0;
/** GEMM dispatches that staged their tiles in f16 so far (tests check that mixed precision reached the kernels). */
export function f16GemmDispatches(): number {
  return f16Dispatches;
}

/** Whether GEMM tiles are staged in f16 where the device allows (what setWebGpuConvF16 last set). */
export function webGpuConvF16(): boolean {
  return f16Wanted;
}

function forwardKernel({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo {
  const { x, filter, bias, residual } = inputs as Record<string, tf.TensorInfo>;
  const g = geometry(x!.shape, filter!.shape, (attrs as unknown as ConvAttrs).stride);
  const y = output(backend, [g.b, g.ho, g.wo, g.cout]);
  const m = g.b * g.ho * g.wo;
  const body = `${bindings([
    { name: 'x' },
    { name: 'wt' },
    { name: 'bias' },
    ...(residual ? [{ name: 'res' }] : []),
    { name: 'y', access: 'read_write' as const },
  ])}
${consts(g)}
fn loadA(m: u32, k: u32) -> f32 {
  let ci = k % CIN; let tap = k / CIN; let kw = tap % KW; let kh = tap / KW;
  let ow = m % WO; let t = m / WO; let oh = t % HO; let b = t / HO;
  let ih = i32(oh * S + kh) - PAD_T; let iw = i32(ow * S + kw) - PAD_L;
  if (ih < 0 || iw < 0 || ih >= i32(H) || iw >= i32(W)) { return 0.0; }
  return x[((b * H + u32(ih)) * W + u32(iw)) * CIN + ci];
}
fn loadB(k: u32, n: u32) -> f32 { return wt[k * COUT + n]; }
fn store(m: u32, n: u32, split: u32, v: f32) { y[m * COUT + n] = v + bias[n]${residual ? ' + res[m * COUT + n]' : ''}; }`;
  const spec = { m, n: g.cout, k: g.k * g.k * g.cin, splits: 1, f16: f16(backend), aKFast: true, bKFast: false, body };
  dispatchGemm(backend, FWD, spec, [x!, filter!, bias!, ...(residual ? [residual] : []), y]);
  return y;
}

function inputGradKernel({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo {
  const { dy, filter } = inputs as Record<string, tf.TensorInfo>;
  const { xShape, stride } = attrs as unknown as { xShape: number[]; stride: number };
  const g = geometry(xShape, filter!.shape, stride);
  const dx = output(backend, xShape);
  const body = `${bindings([{ name: 'dy' }, { name: 'wt' }, { name: 'dx', access: 'read_write' }])}
${consts(g)}
fn loadA(m: u32, k: u32) -> f32 {
  let co = k % COUT; let tap = k / COUT; let kw = tap % KW; let kh = tap / KW;
  let iw = m % W; let t = m / W; let ih = t % H; let b = t / H;
  let nh = i32(ih) + PAD_T - i32(kh); let nw = i32(iw) + PAD_L - i32(kw);
  if (nh < 0 || nw < 0) { return 0.0; }
  let uh = u32(nh); let uw = u32(nw);
  if (uh % S != 0u || uw % S != 0u) { return 0.0; }
  let oh = uh / S; let ow = uw / S;
  if (oh >= HO || ow >= WO) { return 0.0; }
  return dy[((b * HO + oh) * WO + ow) * COUT + co];
}
fn loadB(k: u32, n: u32) -> f32 { let co = k % COUT; let tap = k / COUT; return wt[(tap * CIN + n) * COUT + co]; }
fn store(m: u32, n: u32, split: u32, v: f32) { dx[m * CIN + n] = v; }`;
  const spec = {
    m: g.b * g.h * g.w,
    n: g.cin,
    k: g.k * g.k * g.cout,
    splits: 1,
    f16: f16(backend),
    aKFast: true,
    bKFast: true,
    body,
  };
  dispatchGemm(backend, DX, spec, [dy!, filter!, dx]);
  return dx;
}

/** How many parts to cut the filter gradient's K (every output pixel of the batch) into. */
function filterGradSplits(m: number, n: number, k: number): number {
  const tiles = gemmWorkgroups({ m, n, splits: 1 }).reduce((a, b) => a * b, 1);
  // Aim for ≥ 256 workgroups while keeping ≥ 1024 values of K per split.
  return Math.max(1, Math.min(Math.ceil(256 / tiles), Math.floor(k / 1024), 64));
}

function filterGradKernel({ inputs, attrs, backend }: WebGpuKernelArgs): tf.TensorInfo[] {
  const { x, dy } = inputs as Record<string, tf.TensorInfo>;
  const { filterShape, stride } = attrs as unknown as { filterShape: number[]; stride: number };
  const g = geometry(x!.shape, filterShape, stride);
  const rows = g.k * g.k * g.cin; // + 1: the bias row
  const kk = g.b * g.ho * g.wo;
  const splits = filterGradSplits(rows + 1, g.cout, kk);
  const dw = output(backend, filterShape);
  const db = output(backend, [g.cout]);
  const partial = splits > 1 ? output(backend, [splits, rows + 1, g.cout]) : null;
  const store = partial
    ? 'part[(split * (ROWS + 1u) + m) * COUT + n] = v;'
    : 'if (m < ROWS) { dw[m * COUT + n] = v; } else { db[n] = v; }';
  const body = `${bindings([
    { name: 'x' },
    { name: 'dy' },
    ...(partial
      ? [{ name: 'part', access: 'read_write' as const }]
      : [
          { name: 'dw', access: 'read_write' as const },
          { name: 'db', access: 'read_write' as const },
        ]),
  ])}
${consts(g)}
const ROWS = ${rows}u;
fn loadA(m: u32, k: u32) -> f32 {
  if (m == ROWS) { return 1.0; }
  let ci = m % CIN; let tap = m / CIN; let kw = tap % KW; let kh = tap / KW;
  let ow = k % WO; let t = k / WO; let oh = t % HO; let b = t / HO;
  let ih = i32(oh * S + kh) - PAD_T; let iw = i32(ow * S + kw) - PAD_L;
  if (ih < 0 || iw < 0 || ih >= i32(H) || iw >= i32(W)) { return 0.0; }
  return x[((b * H + u32(ih)) * W + u32(iw)) * CIN + ci];
}
fn loadB(k: u32, n: u32) -> f32 { return dy[k * COUT + n]; }
fn store(m: u32, n: u32, split: u32, v: f32) { ${store} }`;
  const spec = { m: rows + 1, n: g.cout, k: kk, splits, f16: f16(backend), aKFast: false, bKFast: false, body };
  dispatchGemm(backend, DW, spec, [x!, dy!, ...(partial ? [partial] : [dw, db])]);
  if (partial) {
    const total = (rows + 1) * g.cout;
    dispatch(backend, {
      label: `${DW}Sum`,
      code: `${bindings([{ name: 'part' }, { name: 'dw', access: 'read_write' }, { name: 'db', access: 'read_write' }])}
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= ${total}u) { return; }
  var s = 0.0;
  for (var p = 0u; p < ${splits}u; p++) { s += part[p * ${total}u + i]; }
  if (i < ${rows * g.cout}u) { dw[i] = s; } else { db[i - ${rows * g.cout}u] = s; }
}`,
      buffers: [partial, dw, db],
      workgroups: [Math.ceil(total / 256)],
    });
    backend.disposeData(partial.dataId);
  }
  return [dw, db];
}

const available = webgpuKernels({ [FWD]: forwardKernel, [DX]: inputGradKernel, [DW]: filterGradKernel });

/** Whether our conv kernels run here (the webgpu backend; odd square kernels, stride 1 or 2, float32). */
export function webgpuConvFits(w: tf.Tensor4D, stride: number): boolean {
  const [kh, kw] = w.shape;
  return kh === kw && kh % 2 === 1 && (stride === 1 || stride === 2) && available();
}

/** Conv + bias (+ residual, same shape as the output), SAME padding, with gradients for all inputs. */
export function webgpuConv2d(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  bias: tf.Tensor1D,
  stride: number,
  residual?: tf.Tensor4D,
): tf.Tensor4D {
  if (!available()) throw new Error('the webgpu backend is not active (or lacks what our kernels need)');
  const op = customOp<tf.Tensor4D>((ins, save) => {
    const [xi, wi, bi, ri] = ins as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor4D?];
    save([xi, wi]);
    const value = run<tf.Tensor4D>(FWD, { x: xi, filter: wi, bias: bi, residual: ri }, { stride });
    return {
      value,
      gradFunc: (dy, saved) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const dx = run<tf.Tensor4D>(DX, { dy, filter: ws }, { xShape: xs.shape, stride });
        const [dw, db] = run<tf.Tensor[]>(DW, { x: xs, dy }, { filterShape: ws.shape, stride });
        return ri ? [dx, dw!, db!, dy] : [dx, dw!, db!];
      },
    };
  });
  return residual ? op(x, w, bias, residual) : op(x, w, bias);
}
