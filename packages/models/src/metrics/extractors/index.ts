export type { EvaluationExtractor } from './types.ts';
export { offlineExtractor, offlineExtractorName, type OfflineExtractorOptions } from './offline.ts';
export { loadInceptionExtractor, type InceptionExtractorOptions } from './inception.ts';
