/**
 * Test helper: Glow's layers re-implemented in plain JS float64 on one image (NHWC, flat arrays), driven by
 * the parameter values of a TF.js layer, and a brute-force log|det J| from a central-difference Jacobian.
 * Independent of TF.js, so the float32 model's log-determinants and inverses are checked against arithmetic
 * done another way.
 */
import { logAbsDet } from './linalg.ts';

export interface Shape3 {
  h: number;
  w: number;
  c: number;
}

/** SAME-padded stride-1 conv of one image: x [h,w,cin], kernel [k,k,cin,cout], bias [cout]. */
export function conv2dRef(
  x: Float64Array,
  s: Shape3,
  kernel: ArrayLike<number>,
  bias: ArrayLike<number>,
  k: number,
  cout: number,
): Float64Array {
  const { h, w, c: cin } = s;
  const p = (k - 1) / 2;
  const out = new Float64Array(h * w * cout);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++)
      for (let o = 0; o < cout; o++) {
        let acc = bias[o]!;
        for (let di = 0; di < k; di++)
          for (let dj = 0; dj < k; dj++) {
            const ii = i + di - p;
            const jj = j + dj - p;
            if (ii < 0 || ii >= h || jj < 0 || jj >= w) continue;
            for (let ci = 0; ci < cin; ci++)
              acc += x[(ii * w + jj) * cin + ci]! * kernel[((di * k + dj) * cin + ci) * cout + o]!;
          }
        out[(i * w + j) * cout + o] = acc;
      }
  return out;
}

/** Per pixel x·M for M [cin, cout] row-major. */
export function channelMatMulRef(x: Float64Array, pixels: number, m: ArrayLike<number>, cin: number, cout: number) {
  const out = new Float64Array(pixels * cout);
  for (let p = 0; p < pixels; p++)
    for (let o = 0; o < cout; o++) {
      let acc = 0;
      for (let i = 0; i < cin; i++) acc += x[p * cin + i]! * m[i * cout + o]!;
      out[p * cout + o] = acc;
    }
  return out;
}

export function actnormRef(x: Float64Array, c: number, bias: ArrayLike<number>, logs: ArrayLike<number>) {
  return x.map((v, i) => (v + bias[i % c]!) * Math.exp(logs[i % c]!));
}

/** Channels [0, c1) and [c1, c) of every pixel. */
export function splitRef(x: Float64Array, pixels: number, c: number, c1: number): [Float64Array, Float64Array] {
  const a = new Float64Array(pixels * c1);
  const b = new Float64Array(pixels * (c - c1));
  for (let p = 0; p < pixels; p++)
    for (let ch = 0; ch < c; ch++) {
      if (ch < c1) a[p * c1 + ch] = x[p * c + ch]!;
      else b[p * (c - c1) + ch - c1] = x[p * c + ch]!;
    }
  return [a, b];
}

export function concatRef(a: Float64Array, b: Float64Array, pixels: number, ca: number, cb: number): Float64Array {
  const out = new Float64Array(pixels * (ca + cb));
  for (let p = 0; p < pixels; p++) {
    for (let ch = 0; ch < ca; ch++) out[p * (ca + cb) + ch] = a[p * ca + ch]!;
    for (let ch = 0; ch < cb; ch++) out[p * (ca + cb) + ca + ch] = b[p * cb + ch]!;
  }
  return out;
}

/** out[i, j, (dy, dx, ch)] = x[2i + dy, 2j + dx, ch]. */
export function squeezeRef(x: Float64Array, s: Shape3): Float64Array {
  const { h, w, c } = s;
  const out = new Float64Array(x.length);
  for (let i = 0; i < h / 2; i++)
    for (let j = 0; j < w / 2; j++)
      for (let dy = 0; dy < 2; dy++)
        for (let dx = 0; dx < 2; dx++)
          for (let ch = 0; ch < c; ch++)
            out[(i * (w / 2) + j) * 4 * c + (dy * 2 + dx) * c + ch] = x[((2 * i + dy) * w + 2 * j + dx) * c + ch]!;
  return out;
}

export interface ConvParams {
  kernel: ArrayLike<number>;
  bias: ArrayLike<number>;
}

export interface CouplingParams {
  kind: 'affine' | 'additive';
  hidden: number;
  conv1: ConvParams;
  conv2: ConvParams;
  out: ConvParams;
}

export function couplingRef(x: Float64Array, s: Shape3, p: CouplingParams): Float64Array {
  const pixels = s.h * s.w;
  const c1 = Math.floor(s.c / 2);
  const c2 = s.c - c1;
  const [x1, x2] = splitRef(x, pixels, s.c, c1);
  const relu = (a: Float64Array) => a.map((v) => Math.max(v, 0));
  const h1 = relu(conv2dRef(x1, { ...s, c: c1 }, p.conv1.kernel, p.conv1.bias, 3, p.hidden));
  const h2 = relu(conv2dRef(h1, { ...s, c: p.hidden }, p.conv2.kernel, p.conv2.bias, 1, p.hidden));
  const cout = p.kind === 'affine' ? 2 * c2 : c2;
  const h = conv2dRef(h2, { ...s, c: p.hidden }, p.out.kernel, p.out.bias, 3, cout);
  const y2 = new Float64Array(pixels * c2);
  for (let q = 0; q < pixels; q++)
    for (let ch = 0; ch < c2; ch++) {
      const v = x2[q * c2 + ch]!;
      if (p.kind === 'additive') y2[q * c2 + ch] = v + h[q * cout + ch]!;
      else {
        const shift = h[q * cout + ch]!;
        const scale = 1 / (1 + Math.exp(-(h[q * cout + c2 + ch]! + 2)));
        y2[q * c2 + ch] = (v + shift) * scale;
      }
    }
  return concatRef(x1, y2, pixels, c1, c2);
}

/** log|det ∂f/∂x| of f: R^n → R^n at x, from a central-difference Jacobian in float64. */
export function bruteForceLogDet(f: (x: Float64Array) => Float64Array, x: Float64Array, eps = 1e-6): number {
  const n = x.length;
  const jac = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const plus = Float64Array.from(x);
    const minus = Float64Array.from(x);
    plus[j]! += eps;
    minus[j]! -= eps;
    const fp = f(plus);
    const fm = f(minus);
    if (fp.length !== n) throw new Error(`bruteForceLogDet: f maps R^${n} to R^${fp.length}`);
    for (let i = 0; i < n; i++) jac[i * n + j] = (fp[i]! - fm[i]!) / (2 * eps);
  }
  return logAbsDet(jac, n).logAbsDet;
}
