import * as tf from '@tensorflow/tfjs';

/**
 * The standard TF.js `model.json` layout (weightsManifest + userDefinedMetadata), so files written by
 * any handler here also load with tf.io.http / tf.io.browserFiles. Browser-safe.
 */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export function artifactsToModelJson(artifacts: tf.io.ModelArtifacts, weightsPath = WEIGHTS_BIN): tf.io.ModelJSON {
  const json: tf.io.ModelJSON = {
    modelTopology: (artifacts.modelTopology ?? null) as tf.io.ModelJSON['modelTopology'],
    weightsManifest: [{ paths: [weightsPath], weights: artifacts.weightSpecs ?? [] }],
  };
  if (artifacts.format !== undefined) json.format = artifacts.format;
  if (artifacts.generatedBy !== undefined) json.generatedBy = artifacts.generatedBy;
  if (artifacts.userDefinedMetadata !== undefined) json.userDefinedMetadata = artifacts.userDefinedMetadata;
  return json;
}

/** What an IOHandler's save() reports once it has stored `artifacts` with `weightDataBytes` of weights. */
export function savedArtifactsInfo(artifacts: tf.io.ModelArtifacts, weightDataBytes: number): tf.io.SaveResult {
  return {
    modelArtifactsInfo: {
      dateSaved: new Date(),
      modelTopologyType: 'JSON',
      weightDataBytes,
      weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
    },
  };
}

/** One contiguous buffer from a tf.io WeightData (which may be a list of buffers). */
export function weightDataToBuffer(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data;
}

/** Rejects manifest paths that could escape the checkpoint's folder (`../`, absolute, nested). */
export function assertPlainFileName(path: string): void {
  if (path === '' || path === '.' || path === '..' || /[\\/]/.test(path) || path.includes('\0')) {
    throw new Error(`model.json lists weights file '${path}': only plain file names in the same folder are allowed`);
  }
}
