/**
 * A sampling worker thread: keeps an LRU of loaded models, runs one sample task at a time with the
 * @dapple/models samplers, encodes PNGs, and reports progress. Started by pool.ts (spawn.ts).
 * No top-level await: the thread loads this file through tsx's CommonJS hook.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, silenceCpuBanner, loadInferenceWeights } from '@dapple/models';
import { nodeWasmDir } from '@dapple/models/node';
import { createModelSampler, type ModelSampler } from '@dapple/models/browser';
import {
  loadInceptionExtractor,
  loadPretrainedExtractor,
  offlineExtractor,
  type EvaluationExtractor,
} from '@dapple/models/extractors';
import { runEvaluation } from './evaluate.ts';
import { ModelCache } from './model-cache.ts';
import { encodePngs } from './png.ts';
import type { ExtractorConfig, FromWorker, ModelRef, ToWorker, WorkerOptions } from './protocol.ts';
import { storeReadHandler } from './worker-io.ts';

const port = parentPort!;
const options = workerData as WorkerOptions;
const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

const pendingReads = new Map<number, { resolve(b: Uint8Array): void; reject(e: Error): void }>();
let nextReadId = 1;
/** Object bytes through the hub thread's ObjectStore. */
function readObject(key: string): Promise<Uint8Array> {
  const readId = nextReadId++;
  return new Promise((resolve, reject) => {
    pendingReads.set(readId, { resolve, reject });
    send({ type: 'read', readId, key });
  });
}

const cache = new ModelCache<ModelSampler>({ maxModels: options.maxModels, maxParamBytes: options.maxParamBytes });
const aborts = new Map<number, AbortController>();

silenceCpuBanner();
const backendReady = selectBackend({
  ...(options.backend ? { prefer: options.backend } : {}),
  wasmPaths: nodeWasmDir(),
}).then((report) => {
  tf.enableProdMode();
  send({ type: 'ready', backend: report.backend });
});
/** Tasks run one at a time, and only once the backend is up (a task sent earlier waits here). */
let queue: Promise<void> = backendReady.catch(() => undefined);

async function load(model: ModelRef): Promise<{ sampler: ModelSampler; hit: boolean }> {
  await backendReady; // rejects with the backend error when no backend could start
  const cached = cache.get(model.id);
  if (cached) return { sampler: cached, hit: true };
  const weights = await loadInferenceWeights(storeReadHandler(model.modelJsonKey, model.weightsKeys, readObject));
  const sampler = createModelSampler(weights, model.spec);
  cache.set(model.id, sampler);
  return { sampler, hit: false };
}

/** Extractors are kept for the worker's life: they take seconds to load (InceptionV3 ~100 MB, MobileNetV2 ~10 MB). */
const extractors = new Map<string, Promise<EvaluationExtractor>>();
function extractorFor(config: ExtractorConfig): Promise<EvaluationExtractor> {
  const key = JSON.stringify(config);
  let e = extractors.get(key);
  if (!e) {
    e = (async () => {
      if (config.kind === 'pretrained') return loadPretrainedExtractor();
      if (config.kind === 'offline') return offlineExtractor();
      const { url, objectKey, kind: _kind, ...opts } = config;
      if (objectKey) return loadInceptionExtractor(storeReadHandler(objectKey, 'beside', readObject), opts);
      if (url) return loadInceptionExtractor(tf.io.http(url, { fetchFunc: fetch }), opts);
      throw new Error('the Inception extractor needs a model URL or object key (DAPPLE_INCEPTION_MODEL_URL / _KEY)');
    })();
    e.catch(() => extractors.delete(key));
    extractors.set(key, e);
  }
  return e;
}

async function evaluateTask(msg: Extract<ToWorker, { type: 'evaluate' }>, abort: AbortController): Promise<void> {
  try {
    if (abort.signal.aborted) throw new Error('evaluation cancelled before it started');
    const { sampler } = await load(msg.model);
    const extractor = await extractorFor(msg.task.extractor);
    let lastSent = 0;
    let lastPhase: string | undefined;
    const result = await runEvaluation(
      sampler,
      extractor,
      msg.task,
      readObject,
      (done, total, phase) => {
        // A new phase is sent at once; progress within one at most every 200 ms.
        const now = performance.now();
        if (done === total || phase !== lastPhase || now - lastSent >= 200) {
          lastSent = now;
          lastPhase = phase;
          send({ type: 'progress', taskId: msg.taskId, done, total, ...(phase ? { phase } : {}) });
        }
      },
      abort.signal,
    );
    send({ type: 'evaluated', taskId: msg.taskId, result });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    send({ type: 'error', taskId: msg.taskId, message: e.message, name: e.name });
  } finally {
    aborts.delete(msg.taskId);
  }
}

async function interpolateWith(
  sampler: ModelSampler,
  ends: { a: Uint8Array; b: Uint8Array },
  frames: number,
  signal: AbortSignal,
) {
  if (!sampler.interpolate) throw new Error('this model cannot interpolate (only Glow models encode images exactly)');
  return sampler.interpolate({ a: ends.a, b: ends.b, frames, signal });
}

async function runTask(msg: Extract<ToWorker, { type: 'sample' }>, abort: AbortController): Promise<void> {
  try {
    if (abort.signal.aborted) throw new Error('sample job cancelled before it started');
    const t0 = performance.now();
    const { sampler, hit } = await load(msg.model);
    const t1 = performance.now();
    let lastSent = 0;
    const { interpolate, ...request } = msg.request;
    const result = interpolate
      ? await interpolateWith(sampler, interpolate, request.count, abort.signal)
      : await sampler.sample({
          ...request,
          signal: abort.signal,
          onProgress: (done, total) => {
            // Enough for a progress bar without flooding the hub thread.
            const now = performance.now();
            if (done === total || now - lastSent >= 100) {
              lastSent = now;
              send({ type: 'progress', taskId: msg.taskId, done, total });
            }
          },
        });
    const t2 = performance.now();
    const pngs = await encodePngs(result.pixels, result.shape);
    const t3 = performance.now();
    send(
      {
        type: 'done',
        taskId: msg.taskId,
        pngs,
        width: result.shape[2],
        height: result.shape[1],
        timing: { loadMs: hit ? 0 : t1 - t0, sampleMs: t2 - t1, encodeMs: t3 - t2, cacheHit: hit },
      },
      pngs.map((p) => p.buffer as ArrayBuffer),
    );
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    send({ type: 'error', taskId: msg.taskId, message: e.message, name: e.name });
  } finally {
    aborts.delete(msg.taskId);
  }
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'readResult') {
    const pending = pendingReads.get(msg.readId);
    pendingReads.delete(msg.readId);
    if (!pending) return;
    if (msg.bytes) pending.resolve(msg.bytes);
    else pending.reject(new Error(msg.error ?? 'object read failed'));
  } else if (msg.type === 'cancel') {
    aborts.get(msg.taskId)?.abort();
  } else if (msg.type === 'sample' || msg.type === 'evaluate') {
    // Its abort exists from now on, not only once it starts: a cancel that arrives while the task waits for the
    // backend (the worker's first task) or for the task before it must not be lost.
    const abort = new AbortController();
    aborts.set(msg.taskId, abort);
    // One task at a time: the backend is single-threaded and the pool only sends one anyway.
    queue = queue.then(() => (msg.type === 'sample' ? runTask(msg, abort) : evaluateTask(msg, abort)));
  }
});
