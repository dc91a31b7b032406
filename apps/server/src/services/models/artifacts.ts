import type { Readable } from 'node:stream';
import * as tf from '@tensorflow/tfjs';
import {
  artifactsToModelJson,
  loadCheckpoint,
  memoryHandler,
  MODEL_JSON,
  saveInferenceWeights,
  silenceCpuBanner,
  WEIGHTS_BIN,
  weightDataToBuffer,
  glowConfigFromRecord,
  type GlowConfig,
  type JsonValue,
  type Precision,
} from '@dapple/models';
import type { ModelVersionConfig } from '@dapple/db';
import type { ObjectStore } from '@dapple/storage';

/** Files of a published version, relative to its object prefix. */
export const VERSION_FILES = {
  modelJson: MODEL_JSON,
  weights: WEIGHTS_BIN,
  config: 'config.json',
  /** Object keys are lowercase; the export zip names it MODEL_CARD.md. */
  card: 'model-card.md',
  grid: 'grid.png',
  export: 'export.zip',
} as const;

export const modelPrefix = (modelId: string) => `models/${modelId}/`;
export const versionPrefix = (modelId: string, n: number) => `models/${modelId}/v${n}/`;

/** What the trainer stores as checkpoint config (apps/trainer/src/train.ts). */
interface TrainerCheckpointConfig {
  run: {
    schedule: string;
    timesteps: number;
    prediction: string;
    emaDecay?: number;
    preset?: string;
    [k: string]: unknown;
  };
  unet: { resolution: number; channels: number; numClasses?: number; [k: string]: unknown };
  /** Class names by label index (class-conditional runs; checkpoints from before conditioning lack it). */
  labelNames?: string[];
}

export interface InferenceFiles {
  config: ModelVersionConfig;
  resolution: number;
  channels: number;
  /** true when the run kept EMA weights (they are what is published); false: the raw weights. */
  fromEma: boolean;
  weightsBytes: number;
  /** Class names of a class-conditional model (what the run trained on); [] for an unconditional one. */
  labelNames: string[];
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * Reads a training checkpoint (`<ckptPrefix>/model.json` + `weights.bin`) and writes the inference form of
 * it under `dstPrefix`: EMA weights only (the raw weights when the run kept no EMA), in `precision`, as a
 * standard TF.js model.json + weights.bin pair that `loadInferenceWeights` / tf.io.http load in Node and browsers.
 */
export async function writeInferenceWeights(
  store: ObjectStore,
  ckptPrefix: string,
  dstPrefix: string,
  opts: { precision: Precision; labelNames: string[] },
): Promise<InferenceFiles> {
  const { precision } = opts;
  const [jsonBytes, weights] = await Promise.all([
    readAll(await store.get(`${ckptPrefix}/${MODEL_JSON}`)),
    readAll(await store.get(`${ckptPrefix}/${WEIGHTS_BIN}`)),
  ]);
  const modelJson = JSON.parse(jsonBytes.toString('utf8')) as tf.io.ModelJSON;
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: modelJson.modelTopology ?? undefined,
    weightSpecs: (modelJson.weightsManifest ?? []).flatMap((g) => g.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer,
  };
  if (modelJson.format !== undefined) artifacts.format = modelJson.format;
  if (modelJson.userDefinedMetadata !== undefined) artifacts.userDefinedMetadata = modelJson.userDefinedMetadata;

  await tf.ready();
  // The hub has only the cpu backend here (no sampling in this thread): its "install tfjs-node" advice is noise.
  silenceCpuBanner();
  const ckpt = await loadCheckpoint(memoryHandler(artifacts));
  try {
    const fromEma = ckpt.ema !== undefined && ckpt.ema.size > 0;
    const shape = ckpt.architecture === 'glow' ? glowVersionConfig(ckpt.config, ckptPrefix, opts.labelNames) : null;
    const cfg = ckpt.config as unknown as TrainerCheckpointConfig;
    if (!shape && (!cfg?.run || !cfg?.unet))
      throw new Error(`checkpoint at ${ckptPrefix} has no run/unet config: it was not written by the Dapple trainer`);
    // Only a class-conditional network has classes to name (an unconditional run on a labelled dataset has none);
    // the names the run trained with win over the dataset's current ones.
    const labelNames = shape
      ? shape.labelNames
      : cfg.unet.numClasses === undefined
        ? []
        : (cfg.labelNames ?? opts.labelNames);
    const config: ModelVersionConfig = shape
      ? { ...shape.config, precision, weights: fromEma ? 'ema' : 'raw' }
      : {
          format: 'dapple-model',
          formatVersion: 1,
          unet: cfg.unet,
          schedule: { kind: cfg.run.schedule, T: cfg.run.timesteps },
          predictionType: cfg.run.prediction,
          labelNames,
          precision,
          weights: fromEma ? 'ema' : 'raw',
          training: cfg.run,
        };
    const out = memoryHandler();
    await saveInferenceWeights(
      out,
      {
        ...(shape ? { architecture: 'glow' as const } : {}),
        weights: fromEma ? ckpt.ema! : ckpt.variables,
        config: config as unknown as JsonValue,
        step: ckpt.step,
      },
      { precision },
    );
    const saved = out.artifacts!;
    const data = Buffer.from(weightDataToBuffer(saved.weightData));
    const json = Buffer.from(JSON.stringify(artifactsToModelJson(saved, WEIGHTS_BIN)));
    // Weights first: a model.json present means its weights are complete.
    await store.put(`${dstPrefix}${VERSION_FILES.weights}`, data, {
      size: data.length,
      contentType: 'application/octet-stream',
    });
    await store.put(`${dstPrefix}${VERSION_FILES.modelJson}`, json, {
      size: json.length,
      contentType: 'application/json',
    });
    const image = shape ? shape.glow : cfg.unet;
    return {
      config,
      resolution: Number(image.resolution),
      channels: Number(image.channels),
      fromEma,
      weightsBytes: data.length,
      labelNames,
    };
  } finally {
    tf.dispose([...ckpt.variables.values(), ...(ckpt.ema?.values() ?? []), ...(ckpt.optimizer?.values() ?? [])]);
  }
}

/**
 * A Glow checkpoint's published config: the flow under `glow` (what samplingSpecFromConfig and
 * modelFromWeights read), the run's config as `training`, the held-out split its bits/dim were measured on.
 */
function glowVersionConfig(
  raw: JsonValue | undefined,
  ckptPrefix: string,
  datasetLabels: string[],
): { config: ModelVersionConfig; glow: GlowConfig; labelNames: string[] } {
  let glow: GlowConfig;
  try {
    glow = glowConfigFromRecord(raw);
  } catch (err) {
    throw new Error(`Glow checkpoint at ${ckptPrefix}: ${(err as Error).message}`, { cause: err });
  }
  const root = raw as { run?: Record<string, unknown>; labelNames?: string[]; heldOut?: unknown };
  const labelNames = glow.numClasses === undefined ? [] : (root.labelNames ?? datasetLabels);
  return {
    glow,
    labelNames,
    config: {
      format: 'dapple-model',
      formatVersion: 1,
      architecture: 'glow',
      glow: glow as unknown as Record<string, unknown>,
      labelNames,
      training: root.run ?? null,
      ...(root.heldOut ? { heldOut: root.heldOut } : {}),
    },
  };
}

export interface ModelCardInput {
  modelName: string;
  description: string;
  number: number;
  runName: string;
  runId: string;
  step: number;
  totalSteps: number;
  datasetName: string | null;
  datasetVersionHash: string | null;
  config: ModelVersionConfig;
  resolution: number;
  channels: number;
  labelNames: string[];
  metrics: Record<string, { step: number | null; last: number | null; mean: number | null }>;
  notes: string;
  fromEma: boolean;
  publishedBy: string;
  publishedAt: Date;
}

/**
 * Names typed by people (model, run, dataset, labels, the publisher) as literal markdown text: each character
 * markdown could read as syntax is backslash-escaped, so a run called `*wip* | v2` neither turns italic nor
 * splits a table. Description and notes are markdown on purpose and go in as written.
 */
export function markdownText(text: string): string {
  return text.replace(/[\\`*_[\]<>|#~]/g, '\\$&').replace(/\s+/g, ' ');
}

/** A config value as the card shows it: `?` where the stored config lacks it (or it is not a plain value). */
const valueOf = (value: unknown) =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : '?';
const listOf = (value: unknown) => (Array.isArray(value) && value.length ? value.join(', ') : '?');
const attentionOf = (value: unknown) =>
  Array.isArray(value) && value.length
    ? `self-attention at ${value.map((r) => `${String(r)}×${String(r)}`).join(', ')}`
    : 'no self-attention';

/** The generated MODEL_CARD.md (Hugging Face style: what it is, how it was trained, how to use it). */
export function modelCardMarkdown(c: ModelCardInput): string {
  const unet = c.config.unet ?? {};
  const glow = c.config.architecture === 'glow' ? (c.config.glow ?? {}) : null;
  const training = (c.config['training'] ?? {}) as Record<string, unknown>;
  const fmt = (v: number | null) => (v === null ? '—' : Number.isFinite(v) ? v.toPrecision(4) : String(v));
  const metricRows = Object.entries(c.metrics)
    .map(([k, m]) => `| \`${k}\` | ${fmt(m.last)} | ${fmt(m.mean)} | ${m.step ?? '—'} |`)
    .join('\n');
  return [
    `# ${markdownText(c.modelName)} — version ${c.number}`,
    '',
    c.description ? `${c.description}\n` : '',
    c.notes ? `## Notes\n\n${c.notes}\n` : '',
    '## Model',
    '',
    ...(glow
      ? [
          `- Architecture: Glow (normalizing flow, trained by exact maximum likelihood), ${c.resolution}×${c.resolution}×${c.channels} images`,
          `- ${String(glow['levels'])} levels × ${String(glow['depth'])} steps of flow, ${String(glow['hiddenChannels'])} hidden channels, ${String(glow['coupling'])} coupling, ${String(glow['nBits'])}-bit data`,
          `- Bits/dim: held-out ${fmt(c.metrics['held_out_bits_per_dim']?.last ?? null)}, train ${fmt(c.metrics['bits_per_dim']?.last ?? null)} (lower is better; comparable with DDPM's variational bound at ${String(glow['nBits'])} bits)`,
          '- Sampling: one inverse pass at temperature T (0.7 by default)',
        ]
      : [
          `- Architecture: DDPM (denoising diffusion UNet), ${c.resolution}×${c.resolution}×${c.channels} images`,
          `- Base channels ${valueOf(unet['baseChannels'])}, channel multipliers ${listOf(unet['channelMults'])}, ${valueOf(unet['numResBlocks'])} res blocks per level, ${attentionOf(unet['attentionResolutions'])}`,
          `- Noise schedule ${String((c.config.schedule as Record<string, unknown>)['kind'])} with T = ${String((c.config.schedule as Record<string, unknown>)['T'])}, prediction ${c.config.predictionType}`,
          ...(c.metrics['held_out_bits_per_dim']
            ? [`- Bits/dim (variational bound, held-out): ${fmt(c.metrics['held_out_bits_per_dim'].last)}`]
            : []),
        ]),
    `- Weights: ${c.fromEma ? 'EMA' : 'raw (the run kept no EMA)'}, ${String(c.config['precision'])}`,
    c.labelNames.length
      ? `- Class-conditional on ${c.labelNames.length} labels: ${c.labelNames.map(markdownText).join(', ')}`
      : '- Unconditional',
    '',
    '## Training',
    '',
    `- Run "${markdownText(c.runName)}" (${c.runId}), checkpoint at step ${c.step} of ${c.totalSteps}`,
    `- Dataset: ${c.datasetName === null ? 'unknown (deleted)' : markdownText(c.datasetName)}${c.datasetVersionHash ? `, version hash \`${c.datasetVersionHash}\`` : ''}`,
    `- Preset ${valueOf(training['preset'])}, batch size ${valueOf(training['batchSize'])}, lr ${valueOf(training['lr'])}, optimizer ${valueOf(training['optimizer'])}, EMA decay ${valueOf(training['emaDecay'])}`,
    '',
    '## Metrics at publish time',
    '',
    metricRows
      ? `| metric | last | mean (last 100 steps) | step |\n| --- | --- | --- | --- |\n${metricRows}`
      : 'No metrics were recorded.',
    '',
    '## Files',
    '',
    `- \`${VERSION_FILES.modelJson}\` + \`${VERSION_FILES.weights}\`: TF.js weights, load with \`loadInferenceWeights\` from \`@dapple/models\``,
    glow
      ? `- \`${VERSION_FILES.config}\`: the flow's config (architecture glow)`
      : `- \`${VERSION_FILES.config}\`: UNet config, schedule and prediction type`,
    '',
    `Published by ${markdownText(c.publishedBy)} on ${c.publishedAt.toISOString()}.`,
    '',
  ]
    .filter((line, i, all) => !(line === '' && all[i - 1] === ''))
    .join('\n');
}
