import type * as tf from '@tensorflow/tfjs';
import { artifactsToModelJson, MODEL_JSON, savedArtifactsInfo, WEIGHTS_BIN, weightDataToBuffer } from '@dapple/models';
import { getFromUrl, putToUrl, type TrainerClient } from '@dapple/contracts/trainer-client';
import type { Assignment, Presigned } from '@dapple/contracts/trainer-protocol';
import { withRetry } from './hub.ts';

type Log = (msg: string) => void;

/**
 * An IOHandler that saves a checkpoint into the hub's object store: it asks the hub for upload URLs
 * (sized, short-lived), PUTs model.json and weights.bin, then commits, upon which the hub records the
 * checkpoint and prunes the oldest beyond keepCheckpoints.
 */
export function hubCheckpointHandler(
  client: TrainerClient,
  step: number,
  log: Log,
): tf.io.IOHandler & { committed?: { kept: number[]; deleted: number[] } } {
  const handler: tf.io.IOHandler & { committed?: { kept: number[]; deleted: number[] } } = {
    async save(artifacts) {
      const weights = new Uint8Array(weightDataToBuffer(artifacts.weightData));
      const json = new TextEncoder().encode(JSON.stringify(artifactsToModelJson(artifacts, WEIGHTS_BIN)));
      const sizes = { [MODEL_JSON]: json.byteLength, [WEIGHTS_BIN]: weights.byteLength } as Record<
        'model.json' | 'weights.bin',
        number
      >;
      await withRetry(
        `checkpoint ${step} upload`,
        async () => {
          const { files } = await client.checkpointUploads(step, sizes);
          // Weights first: a model.json present means its weights are complete.
          await putToUrl(files['weights.bin'], weights);
          await putToUrl(files['model.json'], json);
        },
        log,
      );
      handler.committed = await withRetry(`checkpoint ${step} commit`, () => client.commitCheckpoint(step, sizes), log);
      return savedArtifactsInfo(artifacts, weights.byteLength);
    },
  };
  return handler;
}

/** Loads the checkpoint the hub assigned (this run's latest, or a fork's parent step) from its download URLs. */
export function resumeHandler(resume: NonNullable<Assignment['resumeFrom']>): tf.io.IOHandler {
  return filesHandler(resume.files);
}

/** Loads a model.json + weights.bin pair (a checkpoint or a published model version) from hub-issued download URLs. */
export function filesHandler(files: Record<'model.json' | 'weights.bin', Presigned>): tf.io.IOHandler {
  return {
    async load() {
      const [jsonBytes, weights] = await Promise.all([
        getFromUrl(files['model.json']),
        getFromUrl(files['weights.bin']),
      ]);
      const modelJson = JSON.parse(new TextDecoder().decode(jsonBytes)) as tf.io.ModelJSON;
      const specs = (modelJson.weightsManifest ?? []).flatMap((g) => g.weights);
      const artifacts: tf.io.ModelArtifacts = {
        modelTopology: modelJson.modelTopology ?? undefined,
        weightSpecs: specs,
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
      };
      if (modelJson.format !== undefined) artifacts.format = modelJson.format;
      if (modelJson.userDefinedMetadata !== undefined) artifacts.userDefinedMetadata = modelJson.userDefinedMetadata;
      return artifacts;
    },
  };
}

/** Uploads a sample-grid PNG to the URL the hub issues and records it. */
export async function uploadSampleGrid(
  client: TrainerClient,
  grid: { step: number; png: Uint8Array; width: number; height: number; seeds: number[] },
  log: Log,
): Promise<void> {
  await withRetry(
    `sample grid ${grid.step} upload`,
    async () => {
      const target = await client.sampleUpload(grid.step, grid.png.byteLength);
      await putToUrl(target, grid.png);
    },
    log,
  );
  await withRetry(
    `sample grid ${grid.step} commit`,
    () =>
      client.commitSample({
        step: grid.step,
        size: grid.png.byteLength,
        width: grid.width,
        height: grid.height,
        seeds: grid.seeds,
      }),
    log,
  );
}
