import type * as tf from '@tensorflow/tfjs';

/**
 * A tf.io load handler over object keys: model.json and its weights files are read through `read`
 * (in the worker: a request to the hub thread's ObjectStore). Weight files are looked up by the file
 * name model.json lists, so only the version's own objects can be read.
 */
export function storeReadHandler(
  modelJsonKey: string,
  weightsKeys: Record<string, string> | 'beside',
  read: (key: string) => Promise<Uint8Array>,
): tf.io.IOHandler {
  // 'beside': weights files live next to model.json (a converted graph model); names must be plain file names.
  const keyOf = (path: string): string | undefined => {
    if (weightsKeys !== 'beside') return weightsKeys[path];
    if (!/^[\w.-]+$/.test(path) || path === '.' || path === '..') return undefined;
    return `${modelJsonKey.slice(0, modelJsonKey.lastIndexOf('/') + 1)}${path}`;
  };
  return {
    async load() {
      const json = JSON.parse(new TextDecoder().decode(await read(modelJsonKey))) as tf.io.ModelJSON;
      const specs: tf.io.WeightsManifestEntry[] = [];
      const parts: Uint8Array[] = [];
      for (const group of json.weightsManifest ?? []) {
        for (const path of group.paths) {
          const key = keyOf(path);
          if (!key) throw new Error(`model.json lists weights file '${path}', which is not a file this model may read`);
          parts.push(await read(key));
        }
        specs.push(...group.weights);
      }
      const total = parts.reduce((n, p) => n + p.byteLength, 0);
      const weightData = new Uint8Array(total);
      let offset = 0;
      for (const p of parts) {
        weightData.set(p, offset);
        offset += p.byteLength;
      }
      return {
        modelTopology: json.modelTopology,
        weightSpecs: specs,
        weightData: weightData.buffer,
        ...(json.format !== undefined ? { format: json.format } : {}),
        ...(json.generatedBy !== undefined ? { generatedBy: json.generatedBy } : {}),
        ...(json.userDefinedMetadata !== undefined ? { userDefinedMetadata: json.userDefinedMetadata } : {}),
      };
    },
  };
}
