import * as tf from '@tensorflow/tfjs';
import {
  assignGlowWeights,
  createGlow,
  createGlowTrainer,
  evaluateBitsPerDim,
  glowCheckpoint,
  glowCheckpointInitialized,
  glowTrainerState,
  loadInferenceWeights,
  type GlowTrainer,
} from '@dapple/models';
import { toFloatImages, type DatasetManifest } from '@dapple/datasets';
import { glowConfigFor, type GlowRunConfig } from '@dapple/contracts/run-config-glow';
import type { TrainerClient } from '@dapple/contracts/trainer-client';
import type { Assignment } from '@dapple/contracts/trainer-protocol';
import { filesHandler, uploadSampleGrid } from './artifacts.ts';
import type { TrainerEnv } from './env.ts';
import { GlowGridSampler } from './glow-grid.ts';
import { heldOutSplit, loadHeldOut } from './held-out.ts';
import { withRetry } from './hub.ts';
import type { Reporter } from './reporter.ts';
import { hubShardCache } from './shard-cache.ts';
import {
  finishAttempt,
  hubCheckpointer,
  ImagesPerSec,
  loadResumeCheckpoint,
  optimizationOptions,
  resumedMessage,
  runScheduled,
  SystemMetrics,
  trainingReader,
  type Log,
  type StopSignal,
  type TrainOutcome,
} from './train-loop.ts';
import { RecentPace } from './recent-pace.ts';

/** Metric keys of held-out and training bits/dim: DDPM runs report their variational bound under the same ones. */
export const BITS_PER_DIM_KEY = 'bits_per_dim';
export const HELD_OUT_BITS_PER_DIM_KEY = 'held_out_bits_per_dim';

export interface GlowAttempt {
  env: TrainerEnv;
  client: TrainerClient;
  stop: StopSignal;
  log: Log;
  assignment: Assignment;
  config: GlowRunConfig;
  manifest: DatasetManifest;
  reporter: Reporter;
}

/**
 * One attempt of a Glow run (the same protocol as a DDPM run: assignment, shards, metrics, grids,
 * checkpoints, resume, fine-tune): trains by exact maximum likelihood, reports train and held-out bits/dim.
 */
export async function trainGlow(a: GlowAttempt): Promise<TrainOutcome> {
  const { client, stop, log, assignment, config, manifest, reporter } = a;
  const glow = glowConfigFor(config, assignment.run.channels);
  if (glow.resolution !== manifest.resolution)
    throw new Error(`model resolution ${glow.resolution} does not match the dataset's ${manifest.resolution}`);
  const labelNames = manifest.labels?.names ?? [];
  if (glow.numClasses !== undefined && glow.numClasses !== labelNames.length)
    throw new Error(
      `the run is conditioned on ${glow.numClasses} classes but the dataset has ${labelNames.length} labels`,
    );
  const seed = assignment.run.seed;
  const model = createGlow(glow, seed);
  let trainer: GlowTrainer | null = null;
  const grids = new GlowGridSampler(glow, {
    count: config.sampleCount,
    seed: config.sampleSeed,
    temperatures: config.sampleTemperatures,
  });
  try {
    if (assignment.baseModel && !assignment.resumeFrom) {
      const base = assignment.baseModel;
      const loaded = await withRetry(
        `downloading base model "${base.name}" v${base.number}`,
        () => loadInferenceWeights(filesHandler(base.files)),
        log,
      );
      try {
        assignGlowWeights(model, loaded.weights, `base model "${base.name}" v${base.number}`);
      } finally {
        tf.dispose([...loaded.weights.values()]);
      }
      // Trained weights: the actnorms must not be re-fitted to the first batch.
      model.markInitialized();
      log(
        `fine-tuning from model "${base.name}" v${base.number} (${base.versionId}): base weights loaded, fresh optimizer, step 0`,
      );
    }
    trainer = createGlowTrainer({
      model,
      ...optimizationOptions(config, seed),
    });
    const conditioning =
      glow.numClasses === undefined
        ? 'unconditional'
        : `conditioned on ${glow.numClasses} classes (${labelNames.join(', ')})`;
    log(
      `model: Glow preset ${config.preset}, ${model.paramCount()} parameters, ${glow.resolution}×${glow.resolution}×${glow.channels}, L ${glow.levels} × K ${glow.depth}, ${glow.hiddenChannels} hidden, ${glow.coupling} coupling, ${glow.nBits}-bit, ${conditioning}`,
    );

    let step = 0;
    if (assignment.resumeFrom) {
      const ckpt = await loadResumeCheckpoint(assignment.resumeFrom, log);
      try {
        if (ckpt.architecture !== 'glow')
          throw new Error(
            `checkpoint of step ${ckpt.step} holds a ${ckpt.architecture ?? 'ddpm'} model, not this run's Glow`,
          );
        assignGlowWeights(model, ckpt.variables, `checkpoint of step ${ckpt.step}`);
        trainer.setState(glowTrainerState(ckpt));
        if (glowCheckpointInitialized(ckpt)) model.markInitialized();
      } finally {
        tf.dispose([...ckpt.variables.values(), ...(ckpt.optimizer?.values() ?? []), ...(ckpt.ema?.values() ?? [])]);
      }
      step = ckpt.step;
      log(resumedMessage(assignment, step));
    }
    reporter.set({ step, phase: 'training' });
    await reporter.flush();

    const shards = hubShardCache(manifest, client, log);
    const split = heldOutSplit(manifest, config.heldOutImages);
    const heldOut = await loadHeldOut(manifest, split, (name) => shards.get(name));
    log(
      split.count > 0
        ? `held-out split: ${split.count} of ${manifest.counts.accepted} images (seed ${split.seed} from the dataset version's shard hashes; the same for every run on it), never trained on; bits/dim every ${config.heldOutEvery} steps`
        : `held-out split: none (heldOutImages 0 or a dataset under 5 images)`,
    );
    const heldOutImages =
      heldOut.count > 0
        ? tf.tensor4d(heldOut.images, [heldOut.count, manifest.height, manifest.width, manifest.channels])
        : null;
    const heldOutLabels =
      heldOut.count > 0 && glow.numClasses !== undefined ? glowLabels(heldOut.labels, glow.numClasses) : undefined;
    const evaluateHeldOut = async () => {
      if (!heldOutImages || !model.initialized) return;
      // The EMA weights are what gets sampled and published: score those (the raw ones without EMA).
      const scored = trainer!.ema ? createGlow(glow, 0) : model;
      try {
        if (scored !== model) {
          trainer!.ema!.copyTo(scored.variables);
          scored.markInitialized();
        }
        const r = await evaluateBitsPerDim({
          model: scored,
          images: heldOutImages,
          ...(heldOutLabels ? { labels: heldOutLabels } : {}),
          seed: split.seed,
        });
        reporter.record(step, { [HELD_OUT_BITS_PER_DIM_KEY]: r.mean });
      } finally {
        if (scored !== model) scored.dispose();
      }
    };

    const sampleGrid = async () => {
      reporter.set({ phase: 'sampling' });
      const grid = await grids.render(trainer!);
      await uploadSampleGrid(client, { step, ...grid }, log);
      reporter.set({ phase: 'training' });
    };
    const checkpointAt = hubCheckpointer({
      client,
      reporter,
      log,
      lastSaved: assignment.resumeFrom ? step : -1,
      contents: () =>
        glowCheckpoint({
          model,
          trainer: trainer!,
          // run: the config; labelNames: what each class index means; heldOut: the split its numbers are on.
          config: {
            run: config,
            labelNames,
            heldOut: { images: split.count, seed: split.seed, indices: split.indices },
          },
        }),
    });
    const checkpoint = () => checkpointAt(step);

    /**
     * Step 0, once the actnorms are fitted (a fine-tune's base already is; a new run fits them on its first
     * batch): the untrained model's grid, held-out bits/dim and checkpoint — the baseline a trained checkpoint
     * is published and evaluated against (the hub never prunes step 0).
     */
    const stepZero = async () => {
      if (stop.requested) return;
      await evaluateHeldOut();
      await sampleGrid();
      await checkpoint();
    };
    if (step === 0 && model.initialized) await stepZero();

    const system = new SystemMetrics(a.env.gpu, config.reportEverySec * 1000);
    const reader = trainingReader({ manifest, config, seed, step, split, shards });
    const throughput = new ImagesPerSec();
    const pace = new RecentPace();
    try {
      for await (const batch of reader) {
        if (stop.requested || step >= config.steps) break;
        const images = tf.tensor4d(toFloatImages(batch.images), [
          batch.size,
          batch.height,
          batch.width,
          batch.channels,
        ]);
        const labels = glow.numClasses === undefined ? undefined : glowLabels(batch.labels, glow.numClasses);
        let m;
        try {
          if (step === 0 && (await trainer.initialize(labels ? { images, labels } : { images }))) await stepZero();
          m = await trainer.step(labels ? { images, labels } : { images });
        } finally {
          images.dispose();
          labels?.dispose();
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
        step = m.step;
        throughput.add(batch.size);
        const imagesPerSec = throughput.update();
        const recentPace = pace.add(batch.size);
        reporter.record(step, {
          // Glow's loss is its bits/dim: `loss` keeps the run page's loss chart meaningful for both families.
          loss: m.bitsPerDim,
          [BITS_PER_DIM_KEY]: m.bitsPerDim,
          grad_norm: m.gradNorm,
          lr: m.lr,
          ema_decay: m.emaDecay,
          skipped_steps: trainer.skippedSteps,
        });
        await system.record(reporter, step, imagesPerSec);
        // The progress line and ETA: the last minute's pace, steadier than the chart's 2-s rate (recent-pace.ts).
        reporter.set({ step, imagesPerSec: recentPace ?? imagesPerSec });
        await runScheduled(step, config, { evaluateHeldOut, sampleGrid, checkpoint });
      }

      return await finishAttempt({ stop, reporter, log, checkpoint }, step);
    } finally {
      heldOutImages?.dispose();
      heldOutLabels?.dispose();
    }
  } finally {
    grids.dispose();
    trainer?.dispose();
    model.dispose();
  }
}

/**
 * Shard labels as a class-conditional flow's class ids. A flow has no null label (no classifier-free guidance):
 * an unlabelled image (-1, uploaded outside any class folder) cannot train its class-conditional prior.
 */
function glowLabels(labels: Int32Array, numClasses: number): tf.Tensor1D {
  for (const l of labels) {
    if (l < 0)
      throw new Error(
        'the dataset version has images without a label (uploaded outside a class folder): a class-conditional Glow needs a class for every image; use conditioning none',
      );
    if (l >= numClasses) throw new Error(`a shard holds label ${l}, but the run has ${numClasses} classes`);
  }
  return tf.tensor1d(labels, 'int32');
}
