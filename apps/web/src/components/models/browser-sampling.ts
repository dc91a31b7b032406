'use client';

import type {
  BackendChoice,
  BackendInfo,
  SliceMessage,
  StartMessage,
  WorkerMessage,
  WorkerSampleRequest,
} from './sampling-protocol';

// In-browser sampling, run in a dedicated Web Worker (sampling.worker.ts): TF.js and the denoising loop never
// touch the main thread, so the page stays responsive for the minutes a CPU-only device can take.

export interface BrowserSampleOptions extends WorkerSampleRequest {
  modelJsonUrl: string;
  weightsUrl: string;
  backend: BackendChoice;
  onStage: (stage: string) => void;
  onBackend: (backend: BackendInfo) => void;
  onEstimate: (seconds: number) => void;
  onProgress: (done: number, total: number) => void;
  signal: AbortSignal;
}

/** More workers than this gain little for the playground's batch sizes and cost a copy of the weights each. */
const MAX_CPU_WORKERS = 8;

/**
 * How many workers share a request on this backend. GPU backends batch the whole request on one device. On CPU
 * (wasm, plain JS) one TF.js instance runs one thread — tfjs-backend-wasm's threaded build breaks once bundled —
 * so the request is split over one worker per core, data-parallel like the hub's sampling pool: image k depends only
 * on (seed, k), so the images are the same whatever the split.
 */
export function workersFor(backend: string, count: number, cores: number): number {
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  return Math.max(1, Math.min(count, cores, MAX_CPU_WORKERS));
}

/** Contiguous slices of `count` images over `n` workers, the first ones one image larger when it does not divide. */
export function imageSlices(count: number, n: number): { firstImageIndex: number; count: number }[] {
  const out: { firstImageIndex: number; count: number }[] = [];
  for (let i = 0, first = 0; i < n; i++) {
    const size = Math.floor(count / n) + (i < count % n ? 1 : 0);
    out.push({ firstImageIndex: first, count: size });
    first += size;
  }
  return out;
}

interface SliceState {
  firstImageIndex: number;
  count: number;
  done: number;
  result: { pixels: Uint8Array; shape: [number, number, number, number] } | null;
}

/**
 * Loads the version's weights over HTTP in a worker, samples there and returns one PNG data URL per image. The first
 * worker picks the backend; on a CPU backend more workers take slices of the request (workersFor).
 */
export function sampleInBrowser(o: BrowserSampleOptions): Promise<string[]> {
  return new Promise((resolve, reject) => {
    if (o.signal.aborted) return reject(new DOMException('Sampling was stopped', 'AbortError'));
    const workers: Worker[] = [];
    let slices: SliceState[] = [];
    let settled = false;
    const finish = () => {
      settled = true;
      for (const worker of workers) worker.terminate();
      o.signal.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error) => {
      if (settled) return;
      finish();
      reject(err);
    };
    // Terminating the workers is the cancel: it stops a kernel mid-way and releases its GPU/wasm memory.
    const onAbort = () => fail(new DOMException('Sampling was stopped', 'AbortError'));
    o.signal.addEventListener('abort', onAbort);

    const start: Omit<StartMessage, 'backend' | 'slice'> = {
      type: 'start',
      modelJsonUrl: new URL(o.modelJsonUrl, location.href).href,
      weightsUrl: new URL(o.weightsUrl, location.href).href,
      wasmPaths: new URL('/tfjs-wasm/', location.href).href,
      request: {
        count: o.count,
        steps: o.steps,
        sampler: o.sampler,
        eta: o.eta,
        seed: o.seed,
        label: o.label,
        guidance: o.guidance,
        temperature: o.temperature,
      },
    };

    /** The first worker chose its backend: split the request and start the other workers on the same backend. */
    const plan = (backend: BackendInfo) => {
      const n = workersFor(backend.name, o.count, navigator.hardwareConcurrency || 1);
      slices = imageSlices(o.count, n).map((s) => ({ ...s, done: 0, result: null }));
      o.onBackend(n > 1 ? { ...backend, detail: `${backend.detail}, ${n} workers` } : backend);
      const first = slices[0]!;
      workers[0]!.postMessage({
        type: 'slice',
        firstImageIndex: first.firstImageIndex,
        count: first.count,
        timeStep: true,
      } satisfies SliceMessage);
      for (const slice of slices.slice(1)) {
        spawn({
          ...start,
          backend: backend.name as BackendChoice,
          slice: { firstImageIndex: slice.firstImageIndex, count: slice.count, timeStep: false },
        });
      }
    };

    const onMessage = (index: number, m: WorkerMessage) => {
      switch (m.type) {
        case 'stage':
          if (index === 0) o.onStage(m.stage);
          return;
        case 'backend':
          if (index === 0) plan(m.backend);
          return;
        case 'estimate':
          return o.onEstimate(m.seconds);
        case 'progress': {
          slices[index]!.done = m.done;
          // The request is as far as its slowest worker.
          return o.onProgress(Math.min(...slices.map((s) => s.done)), m.total);
        }
        case 'error':
          return fail(new Error(m.message));
        case 'done': {
          slices[index]!.result = { pixels: m.pixels, shape: m.shape };
          if (slices.some((s) => !s.result)) return;
          finish();
          try {
            resolve(slices.flatMap((s) => toDataUrls(s.result!.pixels, s.result!.shape)));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        }
      }
    };

    const spawn = (message: StartMessage) => {
      const index = workers.length;
      // A classic worker: Turbopack's worker bootstrap loads the chunks with importScripts, which module workers lack.
      const worker = new Worker(new URL('./sampling.worker.ts', import.meta.url));
      workers.push(worker);
      worker.onerror = (event) => fail(new Error(event.message || 'the sampling worker failed to start'));
      worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
        if (!settled) onMessage(index, event.data);
      };
      worker.postMessage(message);
    };
    spawn({ ...start, backend: o.backend, slice: null });
  });
}

/** uint8 NHWC (1 or 3 channels) → PNG data URLs through a canvas. */
function toDataUrls(pixels: Uint8Array, [n, h, w, c]: [number, number, number, number]): string[] {
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('This browser cannot draw on a canvas');
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const image = context.createImageData(w, h);
    for (let p = 0; p < w * h; p++) {
      const base = (i * w * h + p) * c;
      const r = pixels[base]!;
      image.data[p * 4] = r;
      image.data[p * 4 + 1] = c === 1 ? r : pixels[base + 1]!;
      image.data[p * 4 + 2] = c === 1 ? r : pixels[base + 2]!;
      image.data[p * 4 + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    urls.push(canvas.toDataURL('image/png'));
  }
  return urls;
}
