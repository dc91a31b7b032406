import * as tf from '@tensorflow/tfjs';
import { dynamicImport, isMissingPackage } from './backend/optional-import.ts';
import { startWebGpu, type WebGpuAdapterReport } from './backend/webgpu.ts';
import { BACKEND_NAMES, type BackendName } from './backend-names.ts';

/**
 * Picks the fastest TF.js backend that is actually installed:
 * tfjs-node-gpu › webgpu › tfjs-node › wasm › cpu. The node bindings are optionalDependencies that are
 * absent wherever libtensorflow could not be downloaded (today: everywhere, unless a user brings it), and
 * webgpu needs a GPU driver (Vulkan, Metal or D3D12) through Dawn (backend/webgpu.ts), so each is loaded by a
 * guarded dynamic import and the report says why a candidate was skipped. A software WebGPU adapter (lavapipe)
 * is slower than wasm: the chain passes it by, and only an explicit `prefer: 'webgpu'` uses it.
 */
export { BACKEND_NAMES, type BackendName } from './backend-names.ts';

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  reason: string;
}

export interface BackendReport {
  /** Our name for what was chosen. */
  backend: BackendName;
  /** The name TF.js knows it by (`tf.getBackend()`): 'tensorflow', 'webgpu', 'wasm' or 'cpu'. */
  tfBackend: string;
  /** The GPU the webgpu backend runs on (vendor, architecture, description, features); null on other backends. */
  adapter: WebGpuAdapterReport | null;
  /** Whether the backend has a native Conv2DBackpropFilter kernel (wasm does not: see nn/conv.ts). */
  hasConvFilterGrad: boolean;
  tried: BackendAttempt[];
}

export interface SelectBackendOptions {
  /** Try this backend first (the app maps DAPPLE_TF_BACKEND to it). */
  prefer?: BackendName;
  /** With `prefer`: fall back down the chain if it fails (default true); false makes a failure an error. */
  fallback?: boolean;
  /** Browser: where the tfjs-backend-wasm .wasm files are served (prefix ending in '/'). Node finds them itself. */
  wasmPaths?: string;
  /** webgpu: a substring of the adapter name to use (Dawn's `adapter=` filter), e.g. one GPU of several. */
  webgpuAdapter?: string;
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** npm ci without install scripts (npm 11's default) leaves tfjs-node's files but not its native addon. */
function isMissingNativeAddon(err: unknown): boolean {
  return err instanceof Error && /native addon module \(tfjs_binding\.node\) can not be found/.test(err.message);
}

function message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 300);
}

/** Keeps the cpu backend from printing its CPU_BANNER (cpu-banner.ts): marks the backend as already used. */
export function silenceCpuBanner(): void {
  try {
    const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
  } catch {
    // findBackend only fails if the cpu backend cannot initialise, which selectBackend reports itself.
  }
}

let wasmPathsSet = false;

/** One line for logs and the run page: what the webgpu backend runs on. */
export function describeWebGpuAdapter(a: WebGpuAdapterReport): string {
  const name = [a.vendor, a.architecture, a.description || a.device].filter(Boolean).join(' / ');
  return `${name}${a.software ? ' (software)' : ''}; features ${a.deviceFeatures.join(', ') || 'none'}`;
}

let lastAdapter: WebGpuAdapterReport | null = null;

async function tryBackend(name: BackendName, opts: SelectBackendOptions): Promise<string> {
  switch (name) {
    case 'webgpu': {
      const adapter = await startWebGpu({
        allowSoftware: opts.prefer === 'webgpu',
        ...(opts.webgpuAdapter ? { adapterName: opts.webgpuAdapter } : {}),
      });
      lastAdapter = adapter;
      return `Dawn on ${describeWebGpuAdapter(adapter)}`;
    }
    case 'tensorflow-gpu':
    case 'tensorflow': {
      if (!isNode()) throw new Error('only available in Node.js');
      const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
      try {
        await dynamicImport(pkg);
      } catch (err) {
        // Not installed is the usual case (an optional dependency whose install script cannot run): say just
        // that. Anything else (a missing libtensorflow, a CUDA mismatch) is worth its full message.
        if (isMissingPackage(err, pkg)) throw new Error(`${pkg} is not installed`, { cause: err });
        if (isMissingNativeAddon(err))
          throw new Error(`${pkg} is not installed (its native addon was never built: README, GPU training)`, {
            cause: err,
          });
        throw new Error(`${pkg} failed to load: ${message(err)}`, { cause: err });
      }
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but tf.setBackend('tensorflow') failed`);
      return `${pkg} loaded`;
    }
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      if (!wasmPathsSet) {
        // Node-only module (node:module, node:path): bundlers must leave it out of browser builds.
        const dir =
          opts.wasmPaths ??
          (isNode()
            ? (await import(/* webpackIgnore: true */ /* @vite-ignore */ './backend/node-wasm-dir.ts')).nodeWasmDir()
            : undefined);
        if (dir !== undefined) wasm.setWasmPaths(dir);
        wasmPathsSet = true;
      }
      if (!(await tf.setBackend('wasm')))
        throw new Error("tf.setBackend('wasm') returned false (wasm binaries not loadable?)");
      return `tfjs-backend-wasm ${wasm.version_wasm}, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}`;
    }
    case 'cpu': {
      if (!(await tf.setBackend('cpu'))) throw new Error("tf.setBackend('cpu') returned false");
      return 'plain JavaScript kernels (slow: a correctness reference)';
    }
  }
}

export async function selectBackend(opts: SelectBackendOptions = {}): Promise<BackendReport> {
  if (opts.prefer !== undefined && !BACKEND_NAMES.includes(opts.prefer)) {
    throw new RangeError(`backend.prefer must be one of ${BACKEND_NAMES.join(', ')}, got ${String(opts.prefer)}`);
  }
  const order: BackendName[] = opts.prefer
    ? opts.fallback === false
      ? [opts.prefer]
      : [opts.prefer, ...BACKEND_NAMES.filter((n) => n !== opts.prefer)]
    : [...BACKEND_NAMES];
  const tried: BackendAttempt[] = [];
  silenceCpuBanner();
  for (const name of order) {
    try {
      const reason = await tryBackend(name, opts);
      tried.push({ name, ok: true, reason });
      await tf.ready();
      const tfBackend = tf.getBackend();
      return {
        backend: name,
        tfBackend,
        adapter: name === 'webgpu' ? lastAdapter : null,
        hasConvFilterGrad: hasNativeConvFilterGrad(),
        tried,
      };
    } catch (err) {
      tried.push({ name, ok: false, reason: message(err) });
    }
  }
  const detail = tried.map((a) => `${a.name}: ${a.reason}`).join('; ');
  throw new Error(`no TF.js backend could be started (${detail})`);
}

/** True when the active backend registers Conv2DBackpropFilter (tensorflow, cpu, webgl, webgpu; not wasm). */
export function hasNativeConvFilterGrad(): boolean {
  return tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
}
