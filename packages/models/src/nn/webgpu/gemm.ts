/**
 * A tiled matrix product C[M,N] = Σ_k A[m,k]·B[k,n] in WGSL whose operands are read through functions (`loadA`,
 * `loadB`) and whose result goes through `store`: the convolutions (forward, input and filter gradients) are this
 * one kernel with different index arithmetic (an implicit GEMM: no im2col buffer is ever written).
 *
 * 256 threads per workgroup, each computing a 4×4 block of a TM×TN tile; TK-deep slices of A and B are staged in
 * workgroup memory. The tile shape follows N (narrow outputs waste less). With `f16` the staged slices are f16
 * (half the workgroup memory and its traffic) while products and sums stay f32. `splits` > 1 cuts the K range
 * into that many parts along the z dimension (more workgroups for a long K, e.g. a filter gradient summed over
 * every pixel of the batch); `store` then gets the split index.
 */
export interface GemmSpec {
  m: number;
  n: number;
  k: number;
  splits: number;
  f16: boolean;
  /** Consecutive threads stage consecutive k of A (true) or consecutive m (false): whichever is contiguous in memory. */
  aKFast: boolean;
  /** Likewise for B: consecutive k (true) or consecutive n (false). */
  bKFast: boolean;
  /** WGSL: bindings, constants and `fn loadA(m: u32, k: u32) -> f32`, `fn loadB(k: u32, n: u32) -> f32`,
   * `fn store(m: u32, n: u32, split: u32, v: f32)`; indices are in range when called. */
  body: string;
}

export interface GemmTiles {
  tm: number;
  tn: number;
}

export function gemmTiles(n: number): GemmTiles {
  if (n <= 16) return { tm: 256, tn: 16 };
  if (n <= 32) return { tm: 128, tn: 32 };
  return { tm: 64, tn: 64 };
}

/** Workgroup counts: M tiles over x (and y beyond 65535), N tiles × splits over z. */
export function gemmWorkgroups(s: Pick<GemmSpec, 'm' | 'n' | 'splits'>): [number, number, number] {
  const { tm, tn } = gemmTiles(s.n);
  const mt = Math.ceil(s.m / tm);
  const y = Math.ceil(mt / 65535);
  return [Math.ceil(mt / y), y, Math.ceil(s.n / tn) * s.splits];
}

/** The K range of each split (a multiple of TK, so splits never share a staged slice). */
export function splitLength(k: number, splits: number): number {
  return Math.ceil(k / splits / TK) * TK;
}

const TK = 16;

export function gemmCode(s: GemmSpec): string {
  const { tm, tn } = gemmTiles(s.n);
  const t = s.f16 ? 'f16' : 'f32';
  const ntn = tn / 4; // threads along n
  const ks = splitLength(s.k, s.splits);
  const nTiles = Math.ceil(s.n / tn);
  // Staging: TK·TM (A) and TK·TN (B) values by 256 threads.
  const aPer = (TK * tm) / 256;
  const bPer = (TK * tn) / 256;
  const aIdx = s.aKFast ? `let kk = e % TK; let mm = e / TK;` : `let kk = e / TM; let mm = e % TM;`;
  const bIdx = s.bKFast ? `let kk = e % TK; let nn = e / TK;` : `let kk = e / TN; let nn = e % TN;`;
  return `${s.f16 ? 'enable f16;' : ''}
const GM = ${s.m}u; const GN = ${s.n}u; const GK = ${s.k}u;
const TM = ${tm}u; const TN = ${tn}u; const TK = ${TK}u; const KS = ${ks}u;
var<workgroup> As: array<${t}, ${TK * tm}>;
var<workgroup> Bs: array<${t}, ${TK * tn}>;
${s.body}
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32) {
  let mTile = wid.x + wid.y * nwg.x;
  let nTile = wid.z % ${nTiles}u;
  let split = wid.z / ${nTiles}u;
  let m0 = mTile * TM;
  let n0 = nTile * TN;
  let tx = lid % ${ntn}u;
  let ty = lid / ${ntn}u;
  let kBegin = split * KS;
  let kEnd = min(GK, kBegin + KS);
  var acc: array<f32, 16>;
  for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
    for (var i = 0u; i < ${aPer}u; i++) {
      let e = lid + i * 256u;
      ${aIdx}
      let m = m0 + mm; let k = k0 + kk;
      var v = 0.0;
      if (m < GM && k < kEnd) { v = loadA(m, k); }
      As[kk * TM + mm] = ${t}(v);
    }
    for (var i = 0u; i < ${bPer}u; i++) {
      let e = lid + i * 256u;
      ${bIdx}
      let n = n0 + nn; let k = k0 + kk;
      var v = 0.0;
      if (n < GN && k < kEnd) { v = loadB(k, n); }
      Bs[kk * TN + nn] = ${t}(v);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var r = 0u; r < 4u; r++) { a[r] = f32(As[kk * TM + ty * 4u + r]); }
      for (var c = 0u; c < 4u; c++) { b[c] = f32(Bs[kk * TN + tx * 4u + c]); }
      for (var r = 0u; r < 4u; r++) {
        for (var c = 0u; c < 4u; c++) { acc[r * 4u + c] = fma(a[r], b[c], acc[r * 4u + c]); }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0u; r < 4u; r++) {
    let m = m0 + ty * 4u + r;
    if (m >= GM) { continue; }
    for (var c = 0u; c < 4u; c++) {
      let n = n0 + tx * 4u + c;
      if (n < GN) { store(m, n, split, acc[r * 4u + c]); }
    }
  }
}`;
}
