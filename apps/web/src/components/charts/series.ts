/** A line of a chart: steps ascending, values aligned with them (null = no value at that step). */
export interface Series {
  label: string;
  steps: number[];
  values: (number | null)[];
}

/**
 * Exponential moving average with TensorBoard's debiasing (early points are not pulled towards 0).
 * `weight` 0 returns the values unchanged; 0.99 is very smooth. Nulls and non-finite values are skipped.
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  let last = 0;
  let debias = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    last = last * weight + (1 - weight) * v;
    debias = debias * weight + (1 - weight);
    return last / debias;
  });
}

/**
 * Adds live points to a series: steps after its last step are appended, a resent step replaces its value.
 * Returns a new series (the chart compares references to know what to redraw).
 */
export function appendPoints(series: Series, points: readonly { step: number; value: number }[]): Series {
  if (points.length === 0) return series;
  const steps = series.steps.slice();
  const values = series.values.slice();
  const sorted = [...points].sort((a, b) => a.step - b.step);
  for (const p of sorted) {
    const lastStep = steps.length > 0 ? steps[steps.length - 1]! : -1;
    if (p.step > lastStep) {
      steps.push(p.step);
      values.push(p.value);
    } else {
      const at = lowerBound(steps, p.step);
      if (steps[at] === p.step) values[at] = p.value;
      else {
        steps.splice(at, 0, p.step);
        values.splice(at, 0, p.value);
      }
    }
  }
  return { ...series, steps, values };
}

/**
 * Halves a series by averaging neighbours once it holds more than `limit` points, so a run streaming
 * for hours keeps the chart at about the resolution the server's downsampling gave it.
 */
export function capPoints(series: Series, limit: number): Series {
  if (series.steps.length <= limit) return series;
  const steps: number[] = [];
  const values: (number | null)[] = [];
  for (let i = 0; i < series.steps.length; i += 2) {
    const a = series.values[i] ?? null;
    const b = i + 1 < series.values.length ? (series.values[i + 1] ?? null) : null;
    steps.push(series.steps[i + 1] ?? series.steps[i]!);
    values.push(a === null ? b : b === null ? a : (a + b) / 2);
  }
  return { ...series, steps, values };
}

/**
 * uPlot wants one x array for all lines: the union of every series' steps, each series null where it
 * has no point (the chart bridges those gaps).
 */
export function alignSeries(series: readonly Series[]): [number[], ...(number | null)[][]] {
  if (series.length === 1) return [series[0]!.steps, series[0]!.values];
  const all = new Set<number>();
  for (const s of series) for (const step of s.steps) all.add(step);
  const xs = [...all].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    const column = new Array<number | null>(xs.length).fill(null);
    s.steps.forEach((step, i) => {
      column[index.get(step)!] = s.values[i] ?? null;
    });
    return column;
  });
  return [xs, ...columns];
}

/**
 * The overview with its points in [from, to] replaced by `detail` (a finer read of that step range, as
 * fetched when a chart is zoomed): the chart keeps its whole extent, so a reset still shows every step.
 */
export function replaceRange(
  overview: Series,
  detail: Pick<Series, 'steps' | 'values'>,
  from: number,
  to: number,
): Series {
  const start = lowerBound(overview.steps, from);
  let end = start;
  while (end < overview.steps.length && overview.steps[end]! <= to) end++;
  const inside = detail.steps.flatMap((step, i) => (step >= from && step <= to ? [i] : []));
  return {
    ...overview,
    steps: [...overview.steps.slice(0, start), ...inside.map((i) => detail.steps[i]!), ...overview.steps.slice(end)],
    values: [
      ...overview.values.slice(0, start),
      ...inside.map((i) => detail.values[i] ?? null),
      ...overview.values.slice(end),
    ],
  };
}

/** Number of drawable points (finite values) over all series. */
export function pointCount(series: readonly Series[]): number {
  let n = 0;
  for (const s of series) for (const v of s.values) if (v !== null && Number.isFinite(v)) n++;
  return n;
}

function lowerBound(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
