/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs';
import { dynamicImport, isMissingPackage } from './optional-import.ts';

/**
 * Starts TF.js' webgpu backend on a device of our own. In Node there is no WebGPU: the `webgpu` npm package
 * (Dawn, prebuilt inside the tarball for linux-x64, darwin and win32) provides `navigator.gpu`, which must exist
 * before @tensorflow/tfjs-backend-webgpu is evaluated (it registers itself only then). Both are optional
 * dependencies, so both are loaded with guarded dynamic imports.
 *
 * The backend's own factory asks Dawn for a device without `shader-f16` or `subgroups` and with the default
 * limits; our kernels (nn/webgpu/) use both features where the adapter offers them and bind more storage buffers
 * than the default 8, so the backend is registered again with a device that has them.
 *
 * A software adapter (Mesa's lavapipe/llvmpipe, SwiftShader) runs WebGPU on the CPU, far slower than the wasm
 * backend: it is used only when asked for by name (`allowSoftware`), never picked by the automatic chain. CI
 * tests our kernels on lavapipe that way.
 */

export interface WebGpuAdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (lavapipe, llvmpipe, SwiftShader): correct but slower than the wasm backend. */
  software: boolean;
  /** Features the adapter offers; the device gets the ones our kernels use (`deviceFeatures`). */
  features: string[];
  deviceFeatures: string[];
  subgroupSizes: [number, number] | null;
}

export interface StartWebGpuOptions {
  /** Accept a software adapter (only when the user forced the webgpu backend). */
  allowSoftware: boolean;
  /** Dawn's `adapter=` filter: a substring of the adapter name (`DAPPLE_WEBGPU_ADAPTER`), e.g. to pick one GPU of several. */
  adapterName?: string;
}

/** Dispatches per command buffer (TF.js' WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE, default 15). */
export const SUBMIT_BATCH = 128;

/** Features our kernels use where offered; `timestamp-query` is what TF.js' profiler uses. */
export const WANTED_FEATURES = ['shader-f16', 'subgroups', 'timestamp-query'] as const;

async function importOptional<T>(pkg: string): Promise<T> {
  try {
    return (await dynamicImport(pkg)) as T;
  } catch (err) {
    if (isMissingPackage(err, pkg)) throw new Error(`${pkg} is not installed`, { cause: err });
    throw new Error(`${pkg} failed to load: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

/** Whether adapter info describes a CPU implementation of WebGPU. */
export function isSoftwareAdapter(info: {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}): boolean {
  if (info.isFallbackAdapter) return true;
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`;
  return /llvmpipe|lavapipe|swiftshader|softpipe|software/i.test(text);
}

type TfjsBackendWebGpu = { WebGPUBackend: new (device: GPUDevice, info?: GPUAdapterInfo) => tf.KernelBackend };
let providedBackendModule: TfjsBackendWebGpu | null = null;

/**
 * For bundles (bench/gpu): hands over @tensorflow/tfjs-backend-webgpu imported statically, so it shares the
 * bundle's TF.js instead of being looked up at run time next to it.
 */
export function provideTfjsBackendWebGpu(mod: unknown): void {
  providedBackendModule = mod as TfjsBackendWebGpu;
}

let gpuFlags: string | null = null;

/** navigator.gpu, from Dawn in Node (created once per process with the given adapter filter). */
async function navigatorGpu(adapterName: string | undefined): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) {
    if (gpuFlags !== null && gpuFlags !== (adapterName ?? ''))
      throw new Error('the WebGPU adapter filter cannot change once Dawn has started in this process');
    return nav.gpu;
  }
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string')
    throw new Error('this browser has no WebGPU (navigator.gpu)');
  const dawn = await importOptional<{ create(flags: string[]): GPU; globals: Record<string, unknown> }>('webgpu');
  // GPUBufferUsage, GPUMapMode, … are globals in a browser; the backend refers to them by name.
  for (const [k, v] of Object.entries(dawn.globals))
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const gpu = dawn.create(adapterName ? [`adapter=${adapterName}`] : []);
  gpuFlags = adapterName ?? '';
  if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  // userAgent: TF.js' isMobile() reads it whenever a navigator exists.
  else (globalThis as { navigator?: unknown }).navigator = { gpu, userAgent: `Node.js/${process.versions.node}` };
  return gpu;
}

function adapterReport(adapter: GPUAdapter, deviceFeatures: string[]): WebGpuAdapterReport {
  const info = adapter.info as GPUAdapterInfo & {
    isFallbackAdapter?: boolean;
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
  };
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    software: isSoftwareAdapter(info),
    features: [...adapter.features].map(String).sort(),
    deviceFeatures,
    subgroupSizes:
      info.subgroupMinSize !== undefined && info.subgroupMaxSize !== undefined
        ? [info.subgroupMinSize, info.subgroupMaxSize]
        : null,
  };
}

/** The adapter TF.js' webgpu backend runs on, once startWebGpu succeeded. */
let started: WebGpuAdapterReport | null = null;
let deviceErrors: string[] = [];

export function webgpuAdapter(): WebGpuAdapterReport | null {
  return started;
}

/**
 * Validation and out-of-memory errors the device reported since the last call (and clears them). WebGPU reports
 * an invalid pipeline or bind group asynchronously and runs nothing: without this a broken kernel reads as zeros.
 */
export function takeWebGpuErrors(): string[] {
  const errors = deviceErrors;
  deviceErrors = [];
  return errors;
}

function describeAdapter(r: WebGpuAdapterReport): string {
  return [r.vendor, r.architecture, r.description || r.device].filter(Boolean).join(' / ');
}

/** Registers and activates the webgpu backend; throws with the reason where it cannot (or must not) run. */
export async function startWebGpu(opts: StartWebGpuOptions): Promise<WebGpuAdapterReport> {
  if (started && tf.findBackend('webgpu')) {
    if (started.software && !opts.allowSoftware)
      throw new Error(`software adapter ${describeAdapter(started)}: slower than wasm, used only when forced`);
    if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed");
    return started;
  }
  const gpu = await navigatorGpu(opts.adapterName);
  const probe = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!probe) throw new Error('no WebGPU adapter: no GPU with a Vulkan, Metal or D3D12 driver was found');
  const features = WANTED_FEATURES.filter((f) => probe.features.has(f));
  const report = adapterReport(probe, features);
  if (report.software && !opts.allowSoftware) {
    throw new Error(
      `only a software adapter (${describeAdapter(report)}): slower than wasm, so it is used only when forced ` +
        `(DAPPLE_TF_BACKEND=webgpu)`,
    );
  }
  const mod = providedBackendModule ?? (await importOptional<TfjsBackendWebGpu>('@tensorflow/tfjs-backend-webgpu'));
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  // Priority 1: below wasm (2), so TF.js never falls onto webgpu by itself; selectBackend chooses it explicitly.
  tf.registerBackend(
    'webgpu',
    async () => {
      // An adapter makes one device: ask again (the probe above may be consumed by a previous registration).
      const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' })) ?? probe;
      const l = adapter.limits;
      const device = await adapter.requestDevice({
        requiredFeatures: features as unknown as GPUFeatureName[],
        requiredLimits: {
          maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
          maxBufferSize: l.maxBufferSize,
          maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
          maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        },
      });
      device.addEventListener('uncapturederror', (ev) => {
        if (deviceErrors.length < 100) deviceErrors.push(ev.error.message);
      });
      return new mod.WebGPUBackend(device, adapter.info);
    },
    1,
  );
  if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed (device creation refused?)");
  // Submit a command buffer every SUBMIT_BATCH dispatches instead of TF.js' 15: a training step then costs a few
  // submits, while the GPU still starts on the first part of a step while the rest is being encoded.
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', SUBMIT_BATCH);
  started = report;
  return report;
}

/** The GPUDevice of the active webgpu backend (null on other backends). */
export function activeWebGpuDevice(): GPUDevice | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as unknown as { device?: GPUDevice }).device ?? null;
}
