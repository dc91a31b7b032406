// The charts of the run page and the trainer's metric keys each one draws (apps/trainer/src/train.ts).
export interface MetricGroup {
  title: string;
  keys: string[];
  /** Drawn even before the run reported any of its keys (with an empty state). */
  always?: boolean;
  /** The key of other runs picked for comparison overlaid on this chart (one line per run). */
  compare?: string;
  /** Legend names for the keys of a chart with several lines (a chart of one key names the run instead). */
  labels?: Record<string, string>;
}

export const METRIC_GROUPS: MetricGroup[] = [
  { title: 'Loss', keys: ['loss'], always: true, compare: 'loss' },
  // Glow's exact negative log-likelihood and DDPM's variational bound on the version's fixed held-out images
  // (the same images for every run on it): the number a flow and a diffusion model compare on.
  { title: 'Held-out bits/dim', keys: ['held_out_bits_per_dim'], compare: 'held_out_bits_per_dim' },
  { title: 'Train bits/dim', keys: ['bits_per_dim'], compare: 'bits_per_dim' },
  {
    title: 'Loss by t-quartile',
    keys: ['loss_q1', 'loss_q2', 'loss_q3', 'loss_q4'],
    // Quartiles of the diffusion timestep t: the first holds the least noised images.
    labels: { loss_q1: 't Q1 (least noise)', loss_q2: 't Q2', loss_q3: 't Q3', loss_q4: 't Q4 (most noise)' },
  },
  { title: 'Gradient norm', keys: ['grad_norm'] },
  { title: 'Learning rate', keys: ['lr'] },
  {
    title: 'Images/s',
    keys: ['images_per_sec', 'worker_images_per_sec'],
    compare: 'images_per_sec',
    // CPU runs train on several worker threads: one worker's own rate next to the run's.
    labels: { images_per_sec: 'run', worker_images_per_sec: 'per CPU worker' },
  },
  { title: 'CPU workers', keys: ['cpu_workers'] },
  { title: 'Memory (MB)', keys: ['rss_mb', 'gpu_mem_mb'], labels: { rss_mb: 'trainer process', gpu_mem_mb: 'GPU' } },
  { title: 'GPU utilisation', keys: ['gpu_util'] },
];

export const CHART_KEYS = METRIC_GROUPS.flatMap((g) => g.keys);

/** Keys the trainer reports that no chart draws. */
const UNCHARTED_NAMES: Record<string, string> = {
  ema_decay: 'EMA decay',
  loss_scale: 'Loss scale (mixed f16)',
  skipped_steps: 'Skipped steps (overflow)',
};

/**
 * What the dashboard calls a trainer metric: its chart's title, with the line's legend name for a chart of several
 * (`Images/s · per CPU worker`); null for a key it does not know (a newer trainer's), shown as the key itself.
 */
export function metricName(key: string): string | null {
  const group = METRIC_GROUPS.find((g) => g.keys.includes(key));
  if (!group) return UNCHARTED_NAMES[key] ?? null;
  const line = group.keys.length > 1 ? group.labels?.[key] : undefined;
  return line ? `${group.title} · ${line}` : group.title;
}

/** Metric keys in the order of the run page's charts, then the others alphabetically. */
export function byChartOrder(a: string, b: string): number {
  const rank = (key: string) => {
    const i = CHART_KEYS.indexOf(key);
    return i < 0 ? CHART_KEYS.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** The keys read for runs picked for comparison. */
export const COMPARE_KEYS = METRIC_GROUPS.flatMap((g) => (g.compare ? [g.compare] : []));

/** The groups to draw for a run that has reported `metricKeys`. */
export function visibleGroups(metricKeys: readonly string[]): MetricGroup[] {
  const known = new Set(metricKeys);
  return METRIC_GROUPS.filter((g) => g.always || g.keys.some((k) => known.has(k)));
}
