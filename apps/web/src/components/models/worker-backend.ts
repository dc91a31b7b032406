import * as tf from '@tensorflow/tfjs';
import type { BackendChoice, BackendInfo } from './sampling-protocol';
import { softwareRenderer } from './software-renderer';

// Runs inside the sampling worker. Picks the fastest TF.js backend this browser really has:
// WebGPU (an adapter must exist), then WebGL (OffscreenCanvas with a WebGL2 context), then wasm (SIMD, one thread:
// see tryWasm), then plain JavaScript. A GPU backend whose "GPU" is a software renderer is skipped when picking
// (software-renderer.ts: far slower than wasm), but used when the user asks for it by name.

interface AdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<{ info?: AdapterInfo; isFallbackAdapter?: boolean } | null> };
}

/** WEBGL_debug_renderer_info's unmasked renderer parameter (RENDERER alone may say only "WebKit WebGL"). */
const UNMASKED_RENDERER_WEBGL = 0x9246;

function reasonOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
}

function slowerThanWasm(renderer: string): Error {
  return new Error(`${renderer} draws it on the CPU, in software: slower than WebAssembly`);
}

async function tryWebGpu(refuseSoftware: boolean): Promise<string> {
  const gpu = (navigator as unknown as GpuNavigator).gpu;
  if (!gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('WebGPU is present but no GPU adapter was given');
  if (refuseSoftware) {
    const info = adapter.info ?? {};
    const software = softwareRenderer([info.vendor, info.architecture, info.device, info.description].join(' '));
    if (software) throw slowerThanWasm(software);
    if (info.isFallbackAdapter || adapter.isFallbackAdapter) throw slowerThanWasm('a fallback (software) adapter');
  }
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed");
  const info = adapter.info;
  return info?.vendor ? `GPU: ${info.vendor}${info.architecture ? ` ${info.architecture}` : ''}` : 'GPU adapter';
}

async function tryWebGl(refuseSoftware: boolean): Promise<string> {
  if (typeof OffscreenCanvas === 'undefined') throw new Error('no OffscreenCanvas in workers');
  const probe = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!probe) throw new Error('no WebGL2 context (GPU disabled or blocklisted)');
  const unmasked = probe.getExtension('WEBGL_debug_renderer_info')
    ? (probe.getParameter(UNMASKED_RENDERER_WEBGL) as unknown)
    : null;
  const masked = probe.getParameter(probe.RENDERER) as unknown;
  const renderer = typeof unmasked === 'string' && unmasked ? unmasked : typeof masked === 'string' ? masked : '';
  const software = softwareRenderer(renderer);
  if (refuseSoftware && software) throw slowerThanWasm(software);
  if (!(await tf.setBackend('webgl'))) throw new Error("tf.setBackend('webgl') failed");
  return `WebGL2${renderer ? ` on ${renderer}` : ''}`;
}

async function tryWasm(wasmPaths: string): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  wasm.setWasmPaths(wasmPaths);
  // tfjs-backend-wasm 4.22 starts its pthread workers from a Blob of the Emscripten factory's Function.toString();
  // once bundled and minified that source refers to variables of the bundle ("r is not defined") and every thread
  // dies. So the single-threaded SIMD build, even on a cross-origin-isolated page.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') failed (the .wasm files not loadable?)");
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
  const threads = wasm.getThreadsCount();
  return `${simd}, ${threads} thread${threads === 1 ? '' : 's'}`;
}

async function tryCpu(): Promise<string> {
  if (!(await tf.setBackend('cpu'))) throw new Error("tf.setBackend('cpu') failed");
  return 'plain JavaScript (slow)';
}

/** Sets the TF.js backend; `choice` other than 'auto' tries only that one, so a user's pick is never silently replaced. */
export async function chooseBackend(choice: BackendChoice, wasmPaths: string): Promise<BackendInfo> {
  const picking = choice === 'auto';
  const candidates: [string, () => Promise<string>][] = [
    ['webgpu', () => tryWebGpu(picking)],
    ['webgl', () => tryWebGl(picking)],
    ['wasm', () => tryWasm(wasmPaths)],
    ['cpu', tryCpu],
  ];
  const order = picking ? candidates : candidates.filter(([name]) => name === choice);
  const tried: BackendInfo['tried'] = [];
  for (const [name, attempt] of order) {
    try {
      const detail = await attempt();
      await tf.ready();
      tried.push({ name, ok: true, reason: detail });
      return { name: tf.getBackend(), detail, tried };
    } catch (err) {
      tried.push({ name, ok: false, reason: reasonOf(err) });
    }
  }
  throw new Error(`no TF.js backend could start here (${tried.map((t) => `${t.name}: ${t.reason}`).join('; ')})`);
}
