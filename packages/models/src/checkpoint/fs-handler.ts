/**
 * Node-only IOHandler for a folder holding `model.json` + `weights.bin` (tfjs-node's file:// is not
 * available without libtensorflow). Other workspaces import it from `@dapple/models/node`, not
 * from the package index, so browser bundles never see node:fs.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import {
  MODEL_JSON,
  WEIGHTS_BIN,
  artifactsToModelJson,
  assertPlainFileName,
  weightDataToBuffer,
} from './model-json.ts';

async function writeFileDurably(path: string, data: Uint8Array | string): Promise<void> {
  const file = await open(path, 'w');
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on directories; the renames are still atomic.
  }
}

/**
 * Saving writes both files under temporary names, fsyncs them, then renames weights.bin and finally
 * model.json: a reader never sees a half-written file. If the process dies between the two renames,
 * the recorded CRC-32 makes the load fail with "corrupted" instead of returning mixed weights.
 */
export function fileSystemHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts) {
      await mkdir(dir, { recursive: true });
      const weights = new Uint8Array(weightDataToBuffer(artifacts.weightData));
      const modelJson = JSON.stringify(artifactsToModelJson(artifacts, WEIGHTS_BIN));
      const suffix = `.tmp-${randomBytes(6).toString('hex')}`;
      const weightsTmp = join(dir, WEIGHTS_BIN + suffix);
      const jsonTmp = join(dir, MODEL_JSON + suffix);
      try {
        await writeFileDurably(weightsTmp, weights);
        await writeFileDurably(jsonTmp, modelJson);
        await rename(weightsTmp, join(dir, WEIGHTS_BIN));
        await rename(jsonTmp, join(dir, MODEL_JSON));
        await syncDirectory(dir);
      } catch (error) {
        await Promise.all([unlink(weightsTmp).catch(() => {}), unlink(jsonTmp).catch(() => {})]);
        throw error;
      }
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: 0,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: weights.byteLength,
        },
      };
    },

    async load() {
      const jsonPath = join(dir, MODEL_JSON);
      let text: string;
      try {
        text = await readFile(jsonPath, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT')
          throw new Error(`no saved model in ${dir}: ${MODEL_JSON} not found`, { cause: error });
        throw error;
      }
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(text) as tf.io.ModelJSON;
      } catch (error) {
        throw new Error(`${jsonPath} is not valid JSON (${(error as Error).message})`, { cause: error });
      }
      const manifest = modelJson.weightsManifest ?? [];
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of manifest) {
        specs.push(...group.weights);
        for (const path of group.paths) {
          assertPlainFileName(path);
          try {
            buffers.push(await readFile(join(dir, path)));
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOENT')
              throw new Error(`weights file ${join(dir, path)} listed in ${MODEL_JSON} is missing`, { cause: error });
            throw error;
          }
        }
      }
      const total = buffers.reduce((n, b) => n + b.byteLength, 0);
      const weightData = new Uint8Array(total);
      let offset = 0;
      for (const b of buffers) {
        weightData.set(b, offset);
        offset += b.byteLength;
      }
      const artifacts: tf.io.ModelArtifacts = {
        modelTopology: modelJson.modelTopology ?? undefined,
        weightSpecs: specs,
        weightData: weightData.buffer,
      };
      if (modelJson.format !== undefined) artifacts.format = modelJson.format;
      if (modelJson.generatedBy !== undefined) artifacts.generatedBy = modelJson.generatedBy;
      if (modelJson.userDefinedMetadata !== undefined) artifacts.userDefinedMetadata = modelJson.userDefinedMetadata;
      return artifacts;
    },
  };
}
