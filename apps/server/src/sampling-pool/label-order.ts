/**
 * An evaluation samples a conditional model label by label (each batch shares one label, so guidance runs once
 * per batch), which leaves the samples sorted by label. Statistics that cut the rows into contiguous groups — the
 * Inception Score's splits, each with its own marginal p(y) — must not see that order: a split holding one class
 * has p(y|x) ≈ p(y), and a perfect conditional model would score IS ≈ 1 instead of ≈ K. So the rows are put back
 * into an interleaved order (one of each label in turn) before anything is computed from them.
 */

/** Contiguous blocks of image indices per label, ⌊n/K⌋ or ⌈n/K⌉ each: [label, first index, count]. */
export function labelBlocks(n: number, labels: number[]): [label: number | null, first: number, count: number][] {
  if (labels.length === 0) return [[null, 0, n]];
  const k = labels.length;
  const out: [number, number, number][] = [];
  let first = 0;
  labels.forEach((label, i) => {
    const count = Math.floor(n / k) + (i < n % k ? 1 : 0);
    if (count > 0) out.push([label, first, count]);
    first += count;
  });
  return out;
}

/** Row indices in round-robin order over the blocks: the first row of each block, then the second of each, … */
export function interleavedOrder(blocks: readonly (readonly [unknown, number, number])[]): number[] {
  const order: number[] = [];
  const longest = Math.max(0, ...blocks.map(([, , count]) => count));
  for (let i = 0; i < longest; i++) for (const [, first, count] of blocks) if (i < count) order.push(first + i);
  return order;
}

/** The rows of a row-major matrix (`width` values per row) in the given order. */
export function permuteRows(values: Float32Array, width: number, order: readonly number[]): Float32Array {
  if (order.length * width !== values.length)
    throw new RangeError(`permuteRows: ${order.length} rows of ${width} do not cover ${values.length} values`);
  const out = new Float32Array(values.length);
  order.forEach((row, i) => out.set(values.subarray(row * width, (row + 1) * width), i * width));
  return out;
}
