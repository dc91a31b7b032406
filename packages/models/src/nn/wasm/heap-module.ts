import * as tf from '@tensorflow/tfjs';

/**
 * Our own wasm kernels run on the tfjs-backend-wasm heap: each module (a .wat file here, compiled into a
 * base64 .wasm.ts by `npm run build:wasm -w @dapple/models`) imports the backend's memory, so it reads
 * its inputs and writes its outputs where TF.js keeps tensors, without a copy, and is registered as a TF.js
 * kernel like the backend's own.
 */

export interface WasmBackendLike {
  wasm: { asm: { memory: WebAssembly.Memory } };
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(id: tf.DataId): boolean;
}

export type HeapKernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

export interface HeapModule<T> {
  /** Whether the module runs here: the wasm backend is active and this runtime instantiates the module
   * (it needs wasm SIMD and a non-shared heap). Registers the kernels on first success. */
  available(): boolean;
  /** What a kernel function needs: the module's exports on this backend's heap and pointer helpers. */
  context(args: HeapKernelArgs): HeapContext<T>;
}

export interface HeapContext<T> {
  exports: T;
  backend: WasmBackendLike;
  /** Byte address of a tensor's data in the heap. */
  ptr: (t: tf.TensorInfo) => number;
  /** A new float32 tensor, zero-filled. */
  zeros: (shape: number[]) => tf.TensorInfo;
}

export type HeapKernels = Record<string, (args: HeapKernelArgs) => tf.TensorInfo | tf.TensorInfo[]>;

/**
 * Registers kernels of ours (name → kernel function) for the wasm backend on the first call that finds it
 * active; returns whether it is. Also for kernels that work on the heap in plain JS (optim/flat-copy.ts).
 */
export function wasmKernels(kernels: HeapKernels): () => boolean {
  let registered = false;
  return () => {
    if (tf.getBackend() !== 'wasm') return false;
    if (!registered) {
      for (const [kernelName, kernelFunc] of Object.entries(kernels)) {
        tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc });
      }
      registered = true;
    }
    return true;
  };
}

/** Defines a module and the kernels (name → kernel function) that call it. */
export function heapModule<T>(base64: string, kernels: HeapKernels): HeapModule<T> {
  const instances = new WeakMap<WebAssembly.Memory, T | null>();
  const register = wasmKernels(kernels);
  const contexts = new WeakMap<WasmBackendLike, HeapContext<T>>();
  const instanceFor = (memory: WebAssembly.Memory): T | null => {
    let inst = instances.get(memory);
    if (inst === undefined) {
      try {
        const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
        inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as T;
      } catch {
        inst = null;
      }
      instances.set(memory, inst);
    }
    return inst;
  };
  return {
    available() {
      if (tf.getBackend() !== 'wasm') return false;
      const memory = (tf.backend() as unknown as Partial<WasmBackendLike>).wasm?.asm?.memory;
      if (!(memory instanceof WebAssembly.Memory) || instanceFor(memory) === null) return false;
      return register();
    },
    context(args) {
      // One context per backend, made on its first kernel call: a kernel runs per op, and making its closures
      // on every call cost ~0.7 ms of a ~50 ms `tiny` step in a profile (under tsx each closure is also renamed).
      const backend = args.backend as WasmBackendLike;
      let context = contexts.get(backend);
      if (!context) {
        const memory = backend.wasm.asm.memory;
        const ptr = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId).memoryOffset;
        context = {
          exports: instanceFor(memory)!,
          backend,
          ptr,
          zeros(shape) {
            const t = backend.makeOutput(shape, 'float32');
            // The view is taken after the allocation: an allocation can grow (and so replace) the heap's buffer.
            new Float32Array(memory.buffer, ptr(t), tf.util.sizeFromShape(shape)).fill(0);
            return t;
          },
        };
        contexts.set(backend, context);
      }
      return context;
    },
  };
}
