export type { EvaluationExtractor } from './types.ts';
export { offlineExtractor, offlineExtractorName, type OfflineExtractorOptions } from './offline.ts';
export { loadInceptionExtractor, type InceptionExtractorOptions } from './inception.ts';
// Node-only from here (they read the weights from node_modules): the hub's sampling workers load them.
export { loadPretrainedExtractor, pretrainedExtractorName, type PretrainedExtractorOptions } from './mobilenet-v2.ts';
export { nsfwjsMobileNetV2Handler, nsfwjsVersion } from './nsfwjs-files.ts';
export { loadKerasFeatureExtractor, type FeatureLayer, type KerasFeatureExtractorOptions } from './pretrained.ts';
export { tinyGraphModel } from './tiny-graph-model.ts';
