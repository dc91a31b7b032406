import type * as tf from '@tensorflow/tfjs';
import { savedArtifactsInfo, weightDataToBuffer } from './model-json.ts';

export interface MemoryHandler extends tf.io.IOHandler {
  /** The last saved artifacts (their own copy of the weights), or undefined before the first save. */
  artifacts: tf.io.ModelArtifacts | undefined;
}

/** An IOHandler that keeps the artifacts in memory: tests, browsers, worker hand-offs. */
export function memoryHandler(initial?: tf.io.ModelArtifacts): MemoryHandler {
  const handler: MemoryHandler = {
    artifacts: initial,
    async save(artifacts) {
      const weights = weightDataToBuffer(artifacts.weightData);
      // Copy so later changes to the caller's buffer cannot alter what was "saved".
      handler.artifacts = { ...artifacts, weightData: weights.slice(0) };
      return savedArtifactsInfo(artifacts, weights.byteLength);
    },
    async load() {
      if (!handler.artifacts) throw new Error('memoryHandler: nothing has been saved yet');
      const weightData = weightDataToBuffer(handler.artifacts.weightData).slice(0);
      return { ...handler.artifacts, weightData };
    },
  };
  return handler;
}
