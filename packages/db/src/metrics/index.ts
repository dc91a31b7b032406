export {
  insertMetricColumns,
  insertMetricPoints,
  type MetricColumnsInput,
  type MetricPointInput,
  type InsertMetricPointsOptions,
  type InsertMetricPointsResult,
} from './ingest.ts';
export {
  queryMetrics,
  MAX_QUERY_KEYS,
  MAX_POINTS_LIMIT,
  type MetricsQuery,
  type MetricsQueryResult,
  type MetricSeries,
  type MetricBucket,
} from './query.ts';
export { latestMetrics, listMetricKeys, type LatestMetric } from './latest.ts';
export { copyMetrics } from './copy.ts';
export { MetricsInputError } from './errors.ts';
export { MAX_KEY_LENGTH, MAX_KEYS_PER_RUN } from './keys.ts';
export { MAX_STEP, ROLLUP_LEVELS } from './ladder.ts';
export type { MetricsDb } from './queryable.ts';
