import { saveInferenceWeights } from '../checkpoint/inference.ts';
import { memoryHandler } from '../checkpoint/memory-handler.ts';
import { artifactsToModelJson, weightDataToBuffer } from '../checkpoint/model-json.ts';
import type { InferenceWeights } from '../checkpoint/types.ts';

/**
 * The two files a published model version is stored as (model.json naming weights.bin, and weights.bin), as the
 * bytes an object store or an HTTP server hands out.
 */
export async function publishedFiles(model: InferenceWeights): Promise<{ modelJson: Uint8Array; weights: Uint8Array }> {
  const handler = memoryHandler();
  await saveInferenceWeights(handler, model);
  return {
    modelJson: new TextEncoder().encode(JSON.stringify(artifactsToModelJson(handler.artifacts!))),
    weights: new Uint8Array(weightDataToBuffer(handler.artifacts!.weightData)),
  };
}
