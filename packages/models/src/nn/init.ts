/**
 * Seeded parameter initialisation on the host (JS numbers), so a given seed yields the same weights on
 * every backend. Only for initial weights: training noise comes from the trainer's Rng (src/rng.ts).
 */
export class InitRng {
  private state: number;

  constructor(seed: number) {
    this.state = (seed >>> 0) ^ 0x9e3779b9;
  }

  /** mulberry32: uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(n: number, limit: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (this.next() * 2 - 1) * limit;
    return out;
  }
}

/**
 * DDPM's initialiser: variance scaling with fan_avg and a uniform distribution,
 * limit = √(3·scale / fan_avg). `scale` ≈ 0 (DDPM uses 1e-10) gives the zero-initialised output convs
 * that make each residual block start as the identity.
 */
export function varianceScalingLimit(fanIn: number, fanOut: number, scale: number): number {
  return Math.sqrt((3 * scale) / ((fanIn + fanOut) / 2));
}
