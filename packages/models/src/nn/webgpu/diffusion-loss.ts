import * as tf from '@tensorflow/tfjs';
import { customOp } from '../custom-op.ts';
import { run, webgpuKernels, type WebGpuKernelArgs } from './register.ts';
import { bindings, deviceCaps, dispatch, grid, output, subgroupHeader, workgroupSum } from './runtime.ts';

/**
 * The two ends of a diffusion training step on webgpu:
 *  - x_t = √ᾱ_t·x0 + √(1−ᾱ_t)·ε with the per-sample coefficients looked up in the schedule's tables on the GPU
 *    (one dispatch; as ops: two table uploads, two gathers and three element-wise passes per step);
 *  - the per-sample MSE between prediction and target (one workgroup per sample) and its gradient
 *    2·(pred − target)·dL/dmse_b / D for both inputs in one pass.
 */

const QSAMPLE = 'DappleQSample';
const MSE = 'DappleMse';
const MSE_GRAD = 'DappleMseGrad';
const WG = 256;

function qSampleKernel({ inputs, backend }: WebGpuKernelArgs): tf.TensorInfo {
  const { x0, noise, t, a, s } = inputs;
  const [b] = x0!.shape as [number];
  const d = tf.util.sizeFromShape(x0!.shape) / b;
  const xt = output(backend, x0!.shape);
  const [x, y] = grid(Math.ceil((b * d) / WG));
  dispatch(backend, {
    label: QSAMPLE,
    code: `${bindings([
      { name: 'x0' },
      { name: 'noise' },
      { name: 't', type: 'i32' },
      { name: 'ta' },
      { name: 'ts' },
      { name: 'xt', access: 'read_write' },
    ])}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * ${x * WG}u;
  if (i >= ${b * d}u) { return; }
  let step = t[i / ${d}u];
  xt[i] = ta[step] * x0[i] + ts[step] * noise[i];
}`,
    buffers: [x0!, noise!, t!, a!, s!, xt],
    workgroups: [x, y],
  });
  return xt;
}

function mseKernel({ inputs, backend }: WebGpuKernelArgs): tf.TensorInfo {
  const { pred, target } = inputs;
  const b = pred!.shape[0]!;
  const d = tf.util.sizeFromShape(pred!.shape) / b;
  const sg = deviceCaps(backend.device).subgroups;
  const h = subgroupHeader(sg);
  const out = output(backend, [b]);
  dispatch(backend, {
    label: MSE,
    code: `${h.enable}
${bindings([{ name: 'pred' }, { name: 'tgt' }, { name: 'out', access: 'read_write' }])}
${workgroupSum(WG, sg)}
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32${h.params}) {
  let base = wid.x * ${d}u;
  var s = 0.0;
  for (var i = lid; i < ${d}u; i += ${WG}u) { let e = pred[base + i] - tgt[base + i]; s += e * e; }
  let total = wgSum(s, lid, ${h.args});
  if (lid == 0u) { out[wid.x] = total / ${d}.0; }
}`,
    buffers: [pred!, target!, out],
    workgroups: [b],
  });
  return out;
}

function mseGradKernel({ inputs, backend }: WebGpuKernelArgs): tf.TensorInfo[] {
  const { dy, pred, target } = inputs;
  const b = pred!.shape[0]!;
  const d = tf.util.sizeFromShape(pred!.shape) / b;
  const dp = output(backend, pred!.shape);
  const dt = output(backend, pred!.shape);
  const [x, y] = grid(Math.ceil((b * d) / WG));
  dispatch(backend, {
    label: MSE_GRAD,
    code: `${bindings([
      { name: 'dy' },
      { name: 'pred' },
      { name: 'tgt' },
      { name: 'dp', access: 'read_write' },
      { name: 'dt', access: 'read_write' },
    ])}
@compute @workgroup_size(${WG}) fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * ${x * WG}u;
  if (i >= ${b * d}u) { return; }
  let g = 2.0 * (pred[i] - tgt[i]) * dy[i / ${d}u] / ${d}.0;
  dp[i] = g;
  dt[i] = -g;
}`,
    buffers: [dy!, pred!, target!, dp, dt],
    workgroups: [x, y],
  });
  return [dp, dt];
}

const available = webgpuKernels({ [QSAMPLE]: qSampleKernel, [MSE]: mseKernel, [MSE_GRAD]: mseGradKernel });

export function webgpuDiffusionKernelsAvailable(): boolean {
  return available();
}

/** Per-sample mean of (pred − target)² over all but the batch axis: [B], with gradients for both inputs. */
export function webgpuMse(pred: tf.Tensor, target: tf.Tensor): tf.Tensor1D {
  const op = customOp<tf.Tensor1D>(([p, t], save) => {
    save([p!, t!]);
    return {
      value: run<tf.Tensor1D>(MSE, { pred: p, target: t }),
      gradFunc: (dy, saved) => run<tf.Tensor[]>(MSE_GRAD, { dy, pred: saved[0], target: saved[1] }),
    };
  });
  return op(pred, target);
}

/**
 * GPU copies of schedules' coefficient tables, made once per table content (a run keeps one schedule; tests and
 * benches make many with the same values). The few most recent are kept.
 */
const tables = new Map<string, tf.Tensor1D>();
const MAX_TABLES = 8;
function table(values: Float64Array): tf.Tensor1D {
  const f32 = Float32Array.from(values);
  let h = 2166136261;
  for (const word of new Uint32Array(f32.buffer)) h = Math.imul(h ^ word, 16777619);
  const key = `${f32.length}:${h >>> 0}`;
  let t = tables.get(key);
  // Most recently used last: a step's second table must never evict the first one it just fetched.
  tables.delete(key);
  if (t && !t.isDisposed) tables.set(key, t);
  else {
    t = tf.keep(tf.tensor1d(f32));
    tables.set(key, t);
    if (tables.size > MAX_TABLES) {
      const [oldest, old] = tables.entries().next().value as [string, tf.Tensor1D];
      tables.delete(oldest);
      old.dispose();
    }
  }
  return t;
}

/**
 * x_t from x0, ε and int32 timesteps t, coefficients from `sqrtAlphasCumprod` / `sqrtOneMinusAlphasCumprod`.
 * Gradients (for x0 and ε) are the coefficients times dy, as ops.
 */
export function webgpuQSample(
  sqrtAlphasCumprod: Float64Array,
  sqrtOneMinusAlphasCumprod: Float64Array,
  x0: tf.Tensor4D,
  t: tf.Tensor1D,
  noise: tf.Tensor4D,
): tf.Tensor4D {
  const a = table(sqrtAlphasCumprod);
  const s = table(sqrtOneMinusAlphasCumprod);
  const ti = t.dtype === 'int32' ? t : tf.cast(t, 'int32');
  const op = customOp<tf.Tensor4D>(([xi, ni]) => ({
    value: run<tf.Tensor4D>(QSAMPLE, { x0: xi, noise: ni, t: ti, a, s }),
    gradFunc: (dy) => {
      const b = dy.shape[0];
      const ca = tf.gather(a, ti).reshape([b, 1, 1, 1]);
      const cs = tf.gather(s, ti).reshape([b, 1, 1, 1]);
      return [tf.mul(dy, ca), tf.mul(dy, cs)];
    },
  }));
  const out = op(x0, noise);
  if (ti !== t) ti.dispose();
  return out;
}
