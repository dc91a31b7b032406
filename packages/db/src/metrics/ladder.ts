/**
 * Bucket arithmetic for downsampled reads: which output bucket width to use, and how to cover a step
 * range exactly with raw points plus pre-aggregated rollup buckets.
 *
 * Widths form a ladder where each rung divides the next: raw (1), then rollup levels 1..ROLLUP_LEVELS of
 * width 4^(level+1) = 16, 64, 256, … Output buckets have a power-of-2 width w ≥ every rung used, so every
 * rollup bucket falls inside exactly one output bucket.
 */

/** Number of rollup levels kept on ingest: widths 16 … 4^(ROLLUP_LEVELS+1) = 1,048,576 steps. */
export const ROLLUP_LEVELS = 9;
/** Steps are non-negative int4: the top of the range Postgres can store in `step integer`. */
export const MAX_STEP = 2 ** 31 - 1;

/** log2 of the width of rung `level` (0 = raw points). */
export function levelShift(level: number): number {
  return level === 0 ? 0 : 2 * (level + 1);
}

/**
 * The smallest power-of-2 bucket width (as a shift k, width 2^k) such that buckets aligned to multiples
 * of 2^k cover [from, to] in at most maxPoints buckets.
 */
export function bucketShift(from: number, to: number, maxPoints: number): number {
  for (let k = 0; k <= 31; k++) {
    const buckets = Math.floor(to / 2 ** k) - Math.floor(from / 2 ** k) + 1;
    if (buckets <= maxPoints) return k;
  }
  return 31;
}

/** The coarsest rung whose width does not exceed the output width 2^k. */
export function levelForShift(k: number): number {
  let level = 0;
  for (let l = 1; l <= ROLLUP_LEVELS; l++) if (levelShift(l) <= k) level = l;
  return level;
}

/** A run of consecutive buckets of one rung, covering steps [fromStep, toStep] exactly. */
export interface Piece {
  level: number;
  fromStep: number;
  toStep: number;
}

/**
 * Covers [from, to] exactly with aligned pieces: small rungs on the ragged left edge (ascending), the
 * `top` rung across the middle, small rungs again on the right edge (descending). Each edge costs at most
 * 15 raw rows plus 3 rows per rollup level, so a read touches ~range/width(top) rows whatever the range.
 */
export function decompose(from: number, to: number, top: number): Piece[] {
  const width = (level: number) => 2 ** levelShift(level);
  const pieces: Piece[] = [];
  let lo = from;
  const end = to + 1; // exclusive
  for (let level = 0; level < top; level++) {
    const next = Math.ceil(lo / width(level + 1)) * width(level + 1);
    const stop = Math.min(next, end);
    if (stop > lo) {
      pieces.push({ level, fromStep: lo, toStep: stop - 1 });
      lo = stop;
    }
    if (lo >= end) return pieces;
  }
  for (let level = top; level >= 0; level--) {
    const stop = Math.floor(end / width(level)) * width(level);
    if (stop > lo) {
      pieces.push({ level, fromStep: lo, toStep: stop - 1 });
      lo = stop;
    }
  }
  return pieces;
}
