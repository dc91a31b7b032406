/** Test helpers for the kernel and gradient tests: inputs that do not depend on any backend's RNG, and the error measure they share. */

/** n values uniform in [−scale/2, scale/2) from a small LCG seeded with `seed`. */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * scale;
  }
  return out;
}

/** max |a − b| / max |b|: the error of `a` relative to the reference `b`'s scale. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / Math.max(den, 1e-12);
}
