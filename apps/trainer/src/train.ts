import * as tf from '@tensorflow/tfjs';
import {
  createTrainer,
  createUNet,
  makeSchedule,
  describeWebGpuAdapter,
  selectBackend,
  type BackendReport,
  type JsonValue,
  type PrecisionChoice,
  type QueueingTrainer,
  type StepMetrics,
  type Trainer,
  type UNet,
} from '@dapple/models';
import {
  createCpuTrainer,
  DataParallelTrainer,
  usableCpus,
  type DataParallelTrainerConfig,
} from '@dapple/models/parallel';
import { parseManifest, toFloatImages } from '@dapple/datasets';
import { effectiveMicroBatch, RunConfigSchema, unetConfigFor, type RunConfig } from '@dapple/contracts/run-config';
import type { TrainerClient } from '@dapple/contracts/trainer-client';
import type { Assignment } from '@dapple/contracts/trainer-protocol';
import { uploadSampleGrid } from './artifacts.ts';
import { loadBaseWeights } from './base-model.ts';
import { batchLabels, checkLabels } from './labels.ts';
import type { TrainerEnv } from './env.ts';
import { withRetry } from './hub.ts';
import { hubShardCache } from './shard-cache.ts';
import { heldOutSplit, loadHeldOut } from './held-out.ts';
import { HeldOutBound } from './held-out-vlb.ts';
import { HELD_OUT_BITS_PER_DIM_KEY, trainGlow } from './train-glow.ts';
import { Reporter } from './reporter.ts';
import { GridSampler } from './sample-grid.ts';
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
import { WorkerThroughput } from './worker-throughput.ts';

export { StopSignal, type Log, type TrainOutcome } from './train-loop.ts';

/** On a GPU backend, metrics are read back every this many steps (and before samples, checkpoints and the end). */
const METRICS_EVERY_GPU = 10;

/** What the run computes on, for the log and the run page: the backend and, on webgpu, the adapter. */
export function describeCompute(b: BackendReport): string {
  return b.adapter ? `${b.backend} on ${describeWebGpuAdapter(b.adapter)}` : b.backend;
}

/**
 * The `compute:` log line: the backend and, for a trainer, the precision it resolved when mixed-f16 was requested
 * (then the line says whether it runs and, if not, why). Plain fp32, the default, adds nothing (the run page shows
 * the line's text as the run's compute).
 */
export function computeLine(b: BackendReport, precision: PrecisionChoice | null): string {
  const note = precision && precision.requested !== 'fp32' ? `; ${precision.note}` : '';
  return `compute: ${describeCompute(b)}${note}`;
}

/** Whether the trainer can queue steps (one device) rather than finishing each (the CPU workers' trainer). */
function canQueue(t: Trainer): t is QueueingTrainer {
  return 'queueStep' in t && 'flushMetrics' in t;
}

/** Test seams of a run attempt. */
export interface TrainHooks {
  /** After each step (e.g. a test stops a CPU worker thread here). */
  afterStep?(step: number, trainer: Trainer): void;
}

/**
 * One run attempt: build the model (or load the assigned checkpoint), stream shards, train, report,
 * sample grids and checkpoints on schedule; on a stop request checkpoint and return. CPU worker threads
 * (data-parallel training) end with the attempt, whichever way it ends.
 */
export async function train(
  env: TrainerEnv,
  client: TrainerClient,
  stop: StopSignal,
  log: Log,
  hooks: TrainHooks = {},
): Promise<TrainOutcome & { reporter: Reporter }> {
  const cleanup: (() => Promise<void>)[] = [];
  try {
    return await trainAttempt(env, client, stop, log, hooks, cleanup);
  } finally {
    for (const release of cleanup.reverse()) await release().catch(() => undefined);
  }
}

async function trainAttempt(
  env: TrainerEnv,
  client: TrainerClient,
  stop: StopSignal,
  log: Log,
  hooks: TrainHooks,
  cleanup: (() => Promise<void>)[],
): Promise<TrainOutcome & { reporter: Reporter }> {
  const assignment: Assignment = await withRetry('fetching the run assignment', () => client.assignment(), log);
  const config: RunConfig = RunConfigSchema.parse(assignment.run.config);
  const manifest = parseManifest(assignment.dataset.manifest);
  const reporter = new Reporter(client, config.reportEverySec * 1000, log);
  reporter.start(() =>
    stop.request(reporter.stopReason === 'cancel' ? 'the run was cancelled' : 'the hub revoked this attempt'),
  );

  const backend = await selectBackend({
    ...(env.backend ? { prefer: env.backend } : {}),
    ...(env.webgpuAdapter ? { webgpuAdapter: env.webgpuAdapter } : {}),
  });
  log(`TF.js backend: ${backend.backend} (${backend.tried.map((t) => `${t.name}: ${t.reason}`).join('; ')})`);
  // A read from a GPU is a full sync: there metrics come back every METRICS_EVERY_GPU steps, in one read.
  const metricsEvery = backend.backend === 'webgpu' || backend.backend === 'tensorflow-gpu' ? METRICS_EVERY_GPU : 1;
  if (config.architecture === 'glow') {
    log(computeLine(backend, null));
    const outcome = await trainGlow({ env, client, stop, log, assignment, config, manifest, reporter });
    return { ...outcome, reporter };
  }

  const unet = unetConfigFor(config, assignment.run.channels);
  if (unet.resolution !== manifest.resolution)
    throw new Error(`model resolution ${unet.resolution} does not match the dataset's ${manifest.resolution}`);
  const labelNames = checkLabels(unet, manifest);
  const seed = assignment.run.seed;
  const model: UNet = createUNet(unet, seed);
  // Before the trainer exists: its EMA starts as a copy of the weights, and its optimizer from zero.
  if (assignment.baseModel && !assignment.resumeFrom)
    await loadBaseWeights(model, assignment.baseModel, labelNames, log);
  const schedule = makeSchedule({ kind: config.schedule, T: config.timesteps });
  // CPU backends train data-parallel on worker threads (wasm runs one thread per instance): as many as the
  // executor's CPU slot or this process's usable CPUs allow, never more than the batch.
  const cpuBackend = backend.backend === 'wasm' || backend.backend === 'cpu' ? backend.backend : null;
  const workers = cpuBackend ? Math.min(env.cpuWorkers ?? usableCpus(), config.batchSize) : 1;
  const trainerConfig: DataParallelTrainerConfig = {
    model,
    schedule,
    prediction: config.prediction,
    ...optimizationOptions(config, seed),
    labelDropout: config.labelDropout,
    // What was asked for: the trainer decides what runs (trainer.precision), and the compute: line reports that.
    precision: config.precision ?? 'fp32',
  };
  const singleThread = () => Object.assign(createTrainer(trainerConfig), { workers: 1, close: async () => undefined });
  const trainer: Trainer & { workers: number; close(): Promise<void> } = cpuBackend
    ? await createCpuTrainer(trainerConfig, {
        workers,
        backend: cpuBackend,
        ...(env.cpuVerifyEvery !== undefined ? { verifyEvery: env.cpuVerifyEvery } : {}),
      }).catch((err: Error) => {
        // Worker threads that cannot start (a missing loader, too little memory) slow the run, they need not end it.
        log(`could not start ${workers} CPU workers (${err.message.split('\n')[0]}): training on this thread only`);
        return singleThread();
      })
    : singleThread();
  cleanup.push(() => trainer.close());
  // DDPM runs: the precision on the line is the trainer's own (for CPU workers, rank 0's), resolved from what it
  // runs on; when mixed-f16 cannot run here, it says why the run trains in fp32.
  log(computeLine(backend, trainer.precision));
  if (cpuBackend)
    log(
      `CPU workers: ${trainer.workers} (${env.cpuWorkers !== undefined ? `DAPPLE_CPU_WORKERS=${env.cpuWorkers}` : `${usableCpus()} usable CPUs`}, batch ${config.batchSize}, micro-batch ${effectiveMicroBatch(config)})`,
    );
  const conditioning =
    unet.numClasses === undefined
      ? 'unconditional'
      : `conditioned on ${unet.numClasses} classes (${labelNames.join(', ')}), label dropout ${config.labelDropout}`;
  log(
    `model: preset ${config.preset}, ${model.paramCount()} parameters, ${unet.resolution}×${unet.resolution}×${unet.channels}, ${conditioning}`,
  );

  let step = 0;
  if (assignment.resumeFrom) {
    const ckpt = await loadResumeCheckpoint(assignment.resumeFrom, log);
    for (const [name, v] of model.variables) {
      const t = ckpt.variables.get(name);
      if (!t)
        throw new Error(`checkpoint of step ${ckpt.step} lacks weight ${name}: it was saved by another architecture`);
      v.assign(t);
    }
    trainer.setState({
      step: ckpt.step,
      optimizer: ckpt.optimizer ?? new Map<string, tf.Tensor>(),
      ...(ckpt.ema ? { ema: ckpt.ema } : {}),
      rngState: ckpt.rngState,
    });
    tf.dispose([...ckpt.variables.values(), ...(ckpt.optimizer?.values() ?? []), ...(ckpt.ema?.values() ?? [])]);
    step = ckpt.step;
    log(resumedMessage(assignment, step));
  }
  reporter.set({ step, phase: 'training' });
  await reporter.flush();

  const shards = hubShardCache(manifest, client, log);
  const split = heldOutSplit(manifest, config.heldOutImages);
  const heldOut = split.count > 0 ? await loadHeldOut(manifest, split, (name) => shards.get(name)) : null;
  log(
    heldOut
      ? `held-out split: ${split.count} of ${manifest.counts.accepted} images (seed ${split.seed} from the dataset version's shard hashes; the same for every run on it), never trained on; bits/dim from the variational bound (${Math.min(config.heldOutTimesteps, config.timesteps - 1)} of ${config.timesteps - 1} KL terms, stratified) every ${config.heldOutEvery} steps`
      : `held-out split: none (heldOutImages 0 or a dataset under 5 images)`,
  );
  const bound = heldOut
    ? new HeldOutBound(
        unet,
        schedule,
        config.prediction,
        { timesteps: config.heldOutTimesteps, seed: split.seed },
        heldOut,
      )
    : null;
  cleanup.push(async () => bound?.dispose());
  const evaluateHeldOut = async () => {
    if (!bound) return;
    await flushMetrics();
    reporter.record(step, { [HELD_OUT_BITS_PER_DIM_KEY]: await bound.bitsPerDim(trainer) });
  };

  const grids = new GridSampler(unet, schedule, config.prediction, {
    count: config.sampleCount,
    steps: config.sampleSteps,
    seed: config.sampleSeed,
    sampler: config.sampleSampler,
    guidance: config.sampleGuidance,
  });
  const sampleGrid = async () => {
    reporter.set({ phase: 'sampling' });
    const grid = await grids.render(trainer);
    await uploadSampleGrid(client, { step, ...grid }, log);
    reporter.set({ phase: 'training' });
  };
  const record = (m: StepMetrics) => {
    const [q1, q2, q3, q4] = m.lossByQuartile;
    reporter.record(m.step, {
      loss: m.loss,
      loss_q1: q1,
      loss_q2: q2,
      loss_q3: q3,
      loss_q4: q4,
      grad_norm: m.gradNorm,
      lr: m.lr,
      ema_decay: m.emaDecay,
      // mixed-f16: the loss scale after the step and the steps skipped so far (overflowing gradients).
      ...(m.lossScale !== undefined ? { loss_scale: m.lossScale, skipped_steps: m.skippedSteps ?? 0 } : {}),
    });
  };
  // A trainer on one device queues its steps and reads their metrics every `metricsEvery` steps; the CPU
  // workers' data-parallel trainer reads each step's metrics as it finishes it.
  const queueing = canQueue(trainer) ? trainer : null;
  const finished: StepMetrics[] = [];
  /** Records the metrics of every step run since the last call (queued ones read back in one go). */
  const flushMetrics = async () => {
    for (const m of finished.splice(0)) record(m);
    if (queueing) for (const m of await queueing.flushMetrics()) record(m);
  };
  const checkpointAt = hubCheckpointer({
    client,
    reporter,
    log,
    lastSaved: assignment.resumeFrom ? step : -1,
    beforeSave: async () => {
      await flushMetrics();
      // Every CPU worker must hold the weights being saved (a hash compare; cheap next to a checkpoint).
      if (trainer instanceof DataParallelTrainer) await trainer.verifyReplicas();
    },
    contents: () => {
      const state = trainer.getState();
      return {
        variables: model.variables,
        ...(state.ema ? { ema: state.ema } : {}),
        optimizer: state.optimizer,
        step: state.step,
        rngState: state.rngState,
        // labelNames: what each class index means, for whoever samples from this checkpoint; heldOut: the split
        // its held-out numbers are on.
        config: {
          run: config,
          unet,
          labelNames,
          heldOut: { images: split.count, seed: split.seed, indices: split.indices },
        } as unknown as JsonValue,
      };
    },
  });
  const checkpoint = () => checkpointAt(step);

  if (step === 0 && !stop.requested) {
    // The untrained model's bound: the baseline the held-out curve falls from.
    await evaluateHeldOut();
    await sampleGrid();
    // The untrained weights, kept for the run's life: "untrained" is always there to publish and evaluate
    // as the baseline a trained checkpoint is measured against (the hub never prunes step 0).
    await checkpoint();
  }

  const system = new SystemMetrics(env.gpu, config.reportEverySec * 1000);
  const reader = trainingReader({ manifest, config, seed, step, split, shards });
  const throughput = new ImagesPerSec();
  const pace = new RecentPace();
  const perWorker = new WorkerThroughput();
  for await (const batch of reader) {
    if (stop.requested || step >= config.steps) break;
    const images = tf.tensor4d(toFloatImages(batch.images), [batch.size, batch.height, batch.width, batch.channels]);
    const labels = unet.numClasses === undefined ? undefined : batchLabels(batch.labels, unet.numClasses);
    const stepBatch = labels ? { images, labels } : { images };
    const stepStart = performance.now();
    if (queueing) step = queueing.queueStep(stepBatch);
    else {
      const m = await trainer.step(stepBatch);
      finished.push(m);
      step = m.step;
    }
    const stepMs = performance.now() - stepStart; // queued on a GPU: the time to encode the step
    images.dispose();
    labels?.dispose();
    hooks.afterStep?.(step, trainer);
    perWorker.add(trainer instanceof DataParallelTrainer ? trainer.lastStep : null, batch.size, stepMs);
    throughput.add(batch.size);
    const recentPace = pace.add(batch.size);
    // Steps between reads only queue GPU work; the read waits for it and brings back every queued step's metrics.
    const due =
      step % metricsEvery === 0 ||
      step >= config.steps ||
      step % config.sampleEvery === 0 ||
      step % config.checkpointEvery === 0 ||
      step % config.heldOutEvery === 0 ||
      stop.requested;
    if (!due) continue;
    await flushMetrics();

    // A step resolves through microtasks only: yield a macrotask turn so heartbeats, metric flushes and
    // SIGTERM are handled between steps (a cached dataset would otherwise never let them run).
    await new Promise<void>((resolve) => setImmediate(resolve));
    const imagesPerSec = throughput.update();
    if ((await system.record(reporter, step, imagesPerSec)) && cpuBackend)
      reporter.record(step, { cpu_workers: trainer.workers, worker_images_per_sec: perWorker.take() });
    // The progress line and ETA: the last minute's pace, steadier than the chart's 2-s rate (recent-pace.ts).
    reporter.set({ step, imagesPerSec: recentPace ?? imagesPerSec });
    await runScheduled(step, config, { evaluateHeldOut, sampleGrid, checkpoint });
  }

  await flushMetrics(); // steps queued before a stop or the end of the data
  const outcome = await finishAttempt({ stop, reporter, log, checkpoint }, step);
  grids.dispose();
  return { ...outcome, reporter };
}
