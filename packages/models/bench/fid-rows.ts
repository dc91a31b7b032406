/**
 * `npx tsx bench/fid-rows.ts [out.jsonl] [note]`: FID of n generated against n real feature rows at the pretrained
 * extractor's 1,280 dims, computed through the d×d covariances (the baseline: two 1,280² matrices, an
 * eigendecomposition of one and of the square root's argument) and through the rows (src/metrics/fid.ts uses it when
 * n < dims: the Gram matrix of the n×n cross products). Same features, same run; one JSON line per n with both times,
 * the ratio and the relative difference of the two distances. Features are ReLU-like, correlated and seeded.
 */
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fid, frechetDistance } from '../src/metrics/fid.ts';
import { gaussianStats } from '../src/metrics/moments.ts';
import { Rng } from '../src/rng.ts';

const out = process.argv[2];
const note = process.argv[3];
const dims = 1280;
const rng = new Rng(2026);
const mixing = rng.normalArray(64 * dims);

/** Rows that live near a 64-d subspace plus noise, then ReLU: a covariance with a long tail, as features have. */
function features(rows: number, shift: number): Float32Array {
  const x = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) {
    const z = rng.normalArray(64);
    const noise = rng.normalArray(dims);
    for (let j = 0; j < dims; j++) {
      let v = shift + 0.1 * noise[j]!;
      for (let t = 0; t < 64; t++) v += (z[t]! * mixing[t * dims + j]!) / 8;
      x[r * dims + j] = Math.max(0, v);
    }
  }
  return x;
}

for (const n of [50, 100, 200, 500]) {
  const fake = features(n, 0.1);
  const real = features(n, 0.2);
  let t = performance.now();
  const viaCovariances = frechetDistance(gaussianStats(fake, dims), gaussianStats(real, dims));
  const covariancesMs = performance.now() - t;
  t = performance.now();
  const viaRows = fid(fake, real, dims);
  const rowsMs = performance.now() - t;
  const line = JSON.stringify({
    bench: 'metrics.fid-rows',
    dims,
    rows: n,
    covariancesMs: Math.round(covariancesMs),
    rowsMs: Math.round(rowsMs * 10) / 10,
    speedup: Math.round((covariancesMs / rowsMs) * 10) / 10,
    fid: viaRows,
    relativeDifference: Math.abs(viaRows - viaCovariances) / viaCovariances,
    loadAvg: loadavg().map((v) => +v.toFixed(2)),
    ...(note ? { note } : {}),
  });
  console.log(line);
  if (out) appendFileSync(out, `${line}\n`);
}
