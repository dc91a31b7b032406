import * as tf from '@tensorflow/tfjs';
import type { BackendChoice, BackendInfo } from './sampling-protocol';

// Runs inside the sampling worker. Picks the fastest TF.js backend this browser really has:
// WebGPU (an adapter must exist), then WebGL (OffscreenCanvas with a WebGL2 context), then wasm (SIMD, one thread:
// see tryWasm), then plain JavaScript.

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string } } | null> };
}

function reasonOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
}

async function tryWebGpu(): Promise<string> {
  const gpu = (navigator as unknown as GpuNavigator).gpu;
  if (!gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('WebGPU is present but no GPU adapter was given');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error("tf.setBackend('webgpu') failed");
  const info = adapter.info;
  return info?.vendor ? `GPU: ${info.vendor}${info.architecture ? ` ${info.architecture}` : ''}` : 'GPU adapter';
}

async function tryWebGl(): Promise<string> {
  if (typeof OffscreenCanvas === 'undefined') throw new Error('no OffscreenCanvas in workers');
  const probe = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!probe) throw new Error('no WebGL2 context (GPU disabled or blocklisted)');
  if (!(await tf.setBackend('webgl'))) throw new Error("tf.setBackend('webgl') failed");
  const renderer = probe.getParameter(probe.RENDERER) as unknown;
  return `WebGL2${typeof renderer === 'string' && renderer ? ` on ${renderer}` : ''}`;
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
  const candidates: [string, () => Promise<string>][] = [
    ['webgpu', tryWebGpu],
    ['webgl', tryWebGl],
    ['wasm', () => tryWasm(wasmPaths)],
    ['cpu', tryCpu],
  ];
  const order = choice === 'auto' ? candidates : candidates.filter(([name]) => name === choice);
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
