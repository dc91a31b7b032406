// Messages between the playground (main thread) and sampling.worker.ts. Plain data only: they cross postMessage.

/** 'cpu' is never offered to the user; the page forces it on extra workers when the first one fell back to it. */
export type BackendChoice = 'auto' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

export interface WorkerSampleRequest {
  count: number;
  steps: number;
  sampler: 'dpmpp-2m-sde' | 'dpmpp-2m' | 'ddim' | 'ddpm';
  eta: number;
  seed: number;
  label: number | null;
  guidance: number | null;
  /** Glow models: the priors' temperature (null for a diffusion model). */
  temperature: number | null;
}

export interface StartMessage {
  type: 'start';
  modelJsonUrl: string;
  weightsUrl: string;
  /** 'auto' walks WebGPU › WebGL › wasm; any other value tries only that one (the user picked it). */
  backend: BackendChoice;
  /** Prefix the tfjs-backend-wasm binaries are served under (absolute URL ending in '/'). */
  wasmPaths: string;
  request: WorkerSampleRequest;
  /**
   * The images this worker makes. null for the first worker: it chooses the backend, reports it, and then waits
   * for its SliceMessage (the page splits the request over more workers when the backend is a CPU one).
   */
  slice: ImageSlice | null;
}

/** Images [firstImageIndex, firstImageIndex + count) of the request: image k depends only on (seed, k). */
export interface ImageSlice {
  firstImageIndex: number;
  count: number;
  /** Time one step first and report the estimate (the first worker only). */
  timeStep: boolean;
}

export interface SliceMessage extends ImageSlice {
  type: 'slice';
}

export interface BackendInfo {
  /** TF.js backend that runs the sampling: 'webgpu', 'webgl', 'wasm' or 'cpu'. */
  name: string;
  /** Human detail: the adapter, SIMD and thread count, or why a faster one was skipped. */
  detail: string;
  tried: { name: string; ok: boolean; reason: string }[];
}

export type WorkerMessage =
  | { type: 'stage'; stage: string }
  | { type: 'backend'; backend: BackendInfo }
  /** Estimated seconds for the whole request, from one timed denoising step (after a warm-up step). */
  | { type: 'estimate'; seconds: number; stepSeconds: number }
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; pixels: Uint8Array; shape: [number, number, number, number] }
  | { type: 'error'; message: string };
