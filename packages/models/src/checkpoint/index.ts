// Browser-safe entry point. The Node filesystem handler (./fs-handler.ts) is exported from `@dapple/models/node`.
export type { Checkpoint, InferenceWeights, JsonValue, ModelArchitecture } from './types.ts';
export { MODEL_ARCHITECTURES } from './types.ts';
export { saveCheckpoint, loadCheckpoint, CHECKPOINT_FORMAT } from './checkpoint.ts';
export { saveInferenceWeights, loadInferenceWeights, INFERENCE_FORMAT } from './inference.ts';
export { memoryHandler, type MemoryHandler } from './memory-handler.ts';
export { artifactsToModelJson, savedArtifactsInfo, weightDataToBuffer, MODEL_JSON, WEIGHTS_BIN } from './model-json.ts';
export { crc32 } from './crc32.ts';
export type { Precision } from './codec.ts';
