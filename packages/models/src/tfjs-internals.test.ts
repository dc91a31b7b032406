import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';
import { WEBGPU_BACKEND_METHODS } from './nn/webgpu/runtime.ts';

/**
 * Our kernels read TF.js internals that are not its public API: the wasm backend's heap and tensor table
 * (nn/wasm/heap-module.ts, nn/wasm-kernels.ts, optim/flat-copy.ts, optim/fused-updates.ts, nn/dropout-mask.ts),
 * the engine's tape (nn/custom-op.ts) and the webgpu backend's command encoder and buffers (nn/webgpu/runtime.ts).
 * Every @tensorflow/tfjs-* dependency is therefore pinned to one exact version (checks/tfjs-pins.test.ts). This
 * file names each internal we use and fails, saying which one and who uses it, when a new version lacks it: bump
 * the pin only once the users named in the failures are adapted.
 */
const require = createRequire(import.meta.url);
const versionOf = (pkg: string) => (require(`${pkg}/package.json`) as { version: string }).version;

function missing(pkg: string, internal: string, usedBy: string): string {
  return `${pkg}@${versionOf(pkg)} no longer has ${internal} (used by ${usedBy}): adapt it before bumping the pin`;
}

interface Check {
  internal: string;
  usedBy: string;
  holds: () => boolean;
}

/** Runs every check and reports the failing ones by name, so one run lists all that a bump broke. */
function failures(pkg: string, checks: Check[]): string[] {
  return checks
    .filter(({ holds }) => {
      try {
        return !holds();
      } catch {
        return true;
      }
    })
    .map(({ internal, usedBy }) => missing(pkg, internal, usedBy));
}

describe('TF.js internals our kernels use', () => {
  let previous = '';
  beforeAll(async () => {
    previous = tf.getBackend();
    await selectBackend({ prefer: 'wasm', fallback: false });
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it('@tensorflow/tfjs-backend-wasm: heap memory, tensor table, outputs and kernels', () => {
    type WasmInternals = {
      wasm: { asm: { memory: WebAssembly.Memory } };
      dataIdMap: { get(id: tf.DataId): { memoryOffset: number } | undefined; has(id: tf.DataId): boolean };
      makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
      typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
      incRef(id: tf.DataId): void;
      disposeData(id: tf.DataId): boolean;
    };
    const backend = tf.backend() as unknown as WasmInternals;
    const t = tf.tensor1d([1.5, -2, 3.25]);
    const heapValues = () => {
      const offset = backend.dataIdMap.get(t.dataId)!.memoryOffset;
      return Array.from(new Float32Array(backend.wasm.asm.memory.buffer, offset, 3));
    };
    const problems = failures('@tensorflow/tfjs-backend-wasm', [
      {
        internal: 'backend.wasm.asm.memory (the heap as a WebAssembly.Memory)',
        usedBy: 'nn/wasm/heap-module.ts, optim/fused-updates.ts, nn/dropout-mask.ts',
        holds: () => backend.wasm.asm.memory instanceof WebAssembly.Memory,
      },
      {
        internal: "backend.dataIdMap.get(dataId).memoryOffset (a tensor's byte address in the heap)",
        usedBy: 'nn/wasm/heap-module.ts',
        holds: () => heapValues().join() === '1.5,-2,3.25',
      },
      {
        internal: 'backend.makeOutput(shape, dtype) (a new tensor allocated on the heap)',
        usedBy: 'nn/wasm/heap-module.ts, nn/wasm-*.ts, nn/wasm-kernels.ts, optim/flat-copy.ts',
        holds: () => {
          const out = backend.makeOutput([2, 2], 'float32');
          const ok = backend.dataIdMap.get(out.dataId) !== undefined && out.shape.join() === '2,2';
          backend.disposeData(out.dataId);
          return ok;
        },
      },
      {
        internal: 'backend.disposeData(dataId)',
        usedBy: 'nn/wasm-conv.ts, nn/wasm-groupnorm.ts (scratch buffers)',
        holds: () => {
          const out = backend.makeOutput([4], 'float32');
          backend.disposeData(out.dataId);
          return !backend.dataIdMap.has(out.dataId);
        },
      },
      {
        internal: "backend.typedArrayFromHeap(tensorInfo) (a view of a tensor's data in place)",
        usedBy: 'nn/wasm-kernels.ts, optim/flat-copy.ts',
        holds: () => Array.from(backend.typedArrayFromHeap(t)).join() === '1.5,-2,3.25',
      },
      {
        internal: 'backend.incRef(dataId) (reference counts, so a kernel can share a buffer)',
        usedBy: 'nn/wasm-kernels.ts (Identity), nn/custom-op.ts',
        holds: () => typeof backend.incRef === 'function',
      },
      ...['Slice', 'SplitV', 'Concat', 'Identity'].map((name) => ({
        internal: `the registered wasm kernel ${name} (replaced, then called for what ours do not cover)`,
        usedBy: 'nn/wasm-kernels.ts',
        holds: () => tf.getKernel(name, 'wasm') !== undefined,
      })),
    ]);
    t.dispose();
    expect(problems).toEqual([]);
  });

  it("@tensorflow/tfjs-core: the engine's tape and tensor table", () => {
    type EngineInternals = {
      isTapeOn(): boolean;
      makeTensorFromTensorInfo(info: tf.TensorInfo, backend?: unknown): tf.Tensor;
      state: { activeTape?: { saved?: tf.Tensor[] }[]; tensorInfo: { get(id: tf.DataId): { backend: unknown } } };
    };
    const engine = tf.engine() as unknown as EngineInternals;
    const x = tf.scalar(3);
    let tapeSeen = false;
    tf.grad((v: tf.Tensor) => {
      tapeSeen = engine.isTapeOn() && Array.isArray(engine.state.activeTape);
      return v.square();
    })(x).dispose();
    const usedBy = 'nn/custom-op.ts';
    const problems = failures('@tensorflow/tfjs-core', [
      {
        internal: 'engine.isTapeOn() and engine.state.activeTape (while a gradient records)',
        usedBy,
        holds: () => tapeSeen,
      },
      {
        internal: "engine.state.tensorInfo.get(dataId).backend (a tensor's backend)",
        usedBy,
        holds: () => engine.state.tensorInfo.get(x.dataId).backend === tf.backend(),
      },
      {
        internal: "engine.makeTensorFromTensorInfo(info, backend) (a second tensor on an existing tensor's data)",
        usedBy,
        holds: () => {
          const backend = tf.backend() as unknown as { incRef(id: tf.DataId): void };
          backend.incRef(x.dataId);
          const y = engine.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype }, backend);
          const ok = y.dataSync()[0] === 3;
          y.dispose();
          return ok;
        },
      },
    ]);
    x.dispose();
    expect(problems).toEqual([]);
  });

  it('@tensorflow/tfjs-backend-webgpu: the backend methods our WGSL kernels call (instance fields need a GPU)', async () => {
    const { WebGPUBackend } = (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as {
      WebGPUBackend: { prototype: Record<string, unknown> };
    };
    const usedBy = 'nn/webgpu/runtime.ts (webgpuInternals; its callers keep TF.js ops where it returns null)';
    const problems = failures(
      '@tensorflow/tfjs-backend-webgpu',
      WEBGPU_BACKEND_METHODS.map((method) => ({
        internal: `WebGPUBackend.prototype.${method}()`,
        usedBy,
        holds: () => typeof WebGPUBackend.prototype[method] === 'function',
      })),
    );
    expect(problems).toEqual([]);
  });
});
