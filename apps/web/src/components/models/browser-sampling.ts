'use client';

import type { BackendChoice, BackendInfo, WorkerMessage, WorkerSampleRequest } from './sampling-protocol';

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

/** Loads the version's weights over HTTP in a worker, samples there and returns one PNG data URL per image. */
export function sampleInBrowser(o: BrowserSampleOptions): Promise<string[]> {
  return new Promise((resolve, reject) => {
    if (o.signal.aborted) return reject(new DOMException('Sampling was stopped', 'AbortError'));
    // A classic worker: Turbopack's worker bootstrap loads the chunks with importScripts, which module workers lack.
    const worker = new Worker(new URL('./sampling.worker.ts', import.meta.url));
    const finish = () => {
      worker.terminate();
      o.signal.removeEventListener('abort', onAbort);
    };
    // Terminating the worker is the cancel: it stops a kernel mid-way and releases its GPU/wasm memory.
    const onAbort = () => {
      finish();
      reject(new DOMException('Sampling was stopped', 'AbortError'));
    };
    o.signal.addEventListener('abort', onAbort);
    worker.onerror = (event) => {
      finish();
      reject(new Error(event.message || 'the sampling worker failed to start'));
    };
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const m = event.data;
      switch (m.type) {
        case 'stage':
          return o.onStage(m.stage);
        case 'backend':
          return o.onBackend(m.backend);
        case 'estimate':
          return o.onEstimate(m.seconds);
        case 'progress':
          return o.onProgress(m.done, m.total);
        case 'error':
          finish();
          return reject(new Error(m.message));
        case 'done':
          finish();
          try {
            resolve(toDataUrls(m.pixels, m.shape));
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
      }
    };
    worker.postMessage({
      type: 'start',
      modelJsonUrl: new URL(o.modelJsonUrl, location.href).href,
      weightsUrl: new URL(o.weightsUrl, location.href).href,
      backend: o.backend,
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
    });
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
