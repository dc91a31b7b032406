// Node-only: reads the MobileNetV2 weights that ship inside the `nsfwjs` npm package (MIT licence,
// Infinite Red; the network is GantMan/nsfw_model's MobileNetV2, also MIT), from node_modules, with no
// network. Kept apart from pretrained.ts's network code so that it is the only file touching node:fs.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';

const require = createRequire(import.meta.url);

/** nsfwjs's folder in node_modules (its `exports` map hides package.json, so start from its CJS entry). */
function packageDir(): string {
  // dist/cjs/index.js → the package root two levels up.
  return join(dirname(require.resolve('nsfwjs')), '..', '..');
}

/** The installed nsfwjs version: part of the extractor's name, since other versions may ship other weights. */
export function nsfwjsVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageDir(), 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error('nsfwjs/package.json has no version');
  return pkg.version;
}

/**
 * nsfwjs bundles each model as browserify modules under dist/models/<name>/: `model.min.js` exports the
 * model.json object (Keras topology + weightsManifest) and each `group1-shardNofM.min.js` exports one
 * weight shard as a base64 string. `require` evaluates exactly those modules, as nsfwjs itself does.
 */
function loadBundledModel(model: 'mobilenet_v2'): tf.io.ModelArtifacts {
  const dir = join(packageDir(), 'dist', 'models', model);
  const unwrap = (m: unknown): unknown => (m as { default?: unknown }).default ?? m;
  const json = unwrap(require(join(dir, 'model.min.js'))) as tf.io.ModelJSON;
  if (!json?.modelTopology || !Array.isArray(json.weightsManifest))
    throw new Error(`nsfwjs ${model}: model.min.js is not a model.json (no modelTopology / weightsManifest)`);
  const shards = json.weightsManifest.flatMap((group) =>
    group.paths.map((path) => {
      const base64 = unwrap(require(join(dir, `${path}.min.js`)));
      if (typeof base64 !== 'string') throw new Error(`nsfwjs ${model}: weight shard ${path} is not a base64 string`);
      return Buffer.from(base64, 'base64');
    }),
  );
  const bytes = Buffer.concat(shards);
  return {
    modelTopology: json.modelTopology,
    format: json.format ?? 'layers-model',
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  };
}

/** An IOHandler giving nsfwjs's MobileNetV2 (Keras layers model, 224×224×3 input in [0, 1], uint8-quantised weights). */
export function nsfwjsMobileNetV2Handler(): tf.io.IOHandler {
  return { load: async () => loadBundledModel('mobilenet_v2') };
}
