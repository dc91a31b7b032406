import { REDUCE_KERNELS_WASM_BASE64 } from '../nn/wasm/reduce-kernels.wasm.ts';

/**
 * Where data-parallel CPU workers sum their gradients: one shared memory (a WebAssembly.Memory made with
 * `shared: true`, so its buffer is a SharedArrayBuffer that every worker thread maps) holding one region per
 * rank, each the model's flat gradient buckets back to back. A step: every rank writes its slice's gradient
 * into its own region; then each rank sums a disjoint chunk of the elements over all regions into region 0
 * (in place, rank order 0 + 1 + … + N−1, so the result does not depend on which thread summed which chunk);
 * then every rank reads the summed gradient from region 0. The sum runs in a wasm SIMD kernel of ours
 * (nn/wasm/reduce-kernels.wat), ~10× faster than a typed-array loop (bench/parallel-micro.ts).
 */

const PAGE_BYTES = 65536;
/** wasm32 memories end at 4 GiB. */
const MAX_PAGES = 65536;

interface ReduceExports {
  addInto(dst: number, src: number, n: number): void;
}

export interface ExchangeShape {
  ranks: number;
  /** Elements of each optimizer bucket (FlatLayout order). */
  bucketSizes: number[];
}

/** What a worker thread needs to map the same exchange (postMessage-able: the memory is shared). */
export interface ExchangeHandle extends ExchangeShape {
  memory: WebAssembly.Memory;
}

let module: WebAssembly.Module | null | undefined;
function reduceModule(): WebAssembly.Module | null {
  if (module === undefined) {
    try {
      module = new WebAssembly.Module(Uint8Array.from(atob(REDUCE_KERNELS_WASM_BASE64), (ch) => ch.charCodeAt(0)));
    } catch {
      module = null; // no wasm SIMD or threads here: the typed-array loop below
    }
  }
  return module;
}

export class GradientExchange {
  /** Elements per region: the buckets' total, rounded up to a multiple of 4 (16-byte aligned regions). */
  readonly regionElements: number;
  private readonly bucketOffsets: number[];
  private readonly kernel: ReduceExports | null;

  private constructor(
    readonly memory: WebAssembly.Memory,
    readonly shape: ExchangeShape,
  ) {
    const total = shape.bucketSizes.reduce((a, b) => a + b, 0);
    this.regionElements = Math.ceil(total / 4) * 4;
    let offset = 0;
    this.bucketOffsets = shape.bucketSizes.map((size) => {
      const at = offset;
      offset += size;
      return at;
    });
    const compiled = reduceModule();
    this.kernel = compiled
      ? (new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as ReduceExports)
      : null;
  }

  /** A new exchange for `ranks` workers over buckets of these sizes. */
  static create(shape: ExchangeShape): GradientExchange {
    if (!Number.isInteger(shape.ranks) || shape.ranks < 1)
      throw new RangeError(`exchange ranks must be an integer ≥ 1, got ${shape.ranks}`);
    const total = shape.bucketSizes.reduce((a, b) => a + b, 0);
    const bytes = shape.ranks * Math.ceil(total / 4) * 16;
    const pages = Math.max(1, Math.ceil(bytes / PAGE_BYTES));
    if (pages > MAX_PAGES) {
      throw new RangeError(
        `${shape.ranks} CPU workers × ${total} parameters need ${(bytes / 2 ** 30).toFixed(1)} GiB of shared gradient ` +
          `buffer, more than the 4 GiB a wasm memory holds: use fewer workers (DAPPLE_CPU_WORKERS)`,
      );
    }
    return new GradientExchange(new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }), shape);
  }

  /** The same exchange, in another thread. */
  static attach(handle: ExchangeHandle): GradientExchange {
    return new GradientExchange(handle.memory, { ranks: handle.ranks, bucketSizes: handle.bucketSizes });
  }

  get handle(): ExchangeHandle {
    return { memory: this.memory, ranks: this.shape.ranks, bucketSizes: this.shape.bucketSizes };
  }

  /** Whether the sum runs in the wasm SIMD kernel (else a typed-array loop). */
  get simd(): boolean {
    return this.kernel !== null;
  }

  /** A view of one bucket in one rank's region (region 0 holds the sum after reduce). */
  bucket(rank: number, bucket: number): Float32Array {
    const size = this.shape.bucketSizes[bucket];
    if (size === undefined) throw new RangeError(`no bucket ${bucket}`);
    return new Float32Array(this.memory.buffer, this.byteOffset(rank, this.bucketOffsets[bucket]!), size);
  }

  /** The [lo, hi) element range rank `rank` sums: contiguous, multiples of 4 except at the end. */
  chunk(rank: number): [number, number] {
    const per = Math.ceil(this.regionElements / this.shape.ranks / 4) * 4;
    const lo = Math.min(rank * per, this.regionElements);
    return [lo, Math.min(lo + per, this.regionElements)];
  }

  /** region0[lo, hi) += region1[lo, hi) + … + region(N−1)[lo, hi), in rank order. */
  reduce(lo: number, hi: number): void {
    if (hi <= lo) return;
    for (let r = 1; r < this.shape.ranks; r++) {
      if (this.kernel) this.kernel.addInto(this.byteOffset(0, lo), this.byteOffset(r, lo), hi - lo);
      else addIntoJs(this.memory.buffer, this.byteOffset(0, lo), this.byteOffset(r, lo), hi - lo);
    }
  }

  /** The typed-array loop (the fallback; also what the bench compares the kernel with). */
  reduceJs(lo: number, hi: number): void {
    for (let r = 1; r < this.shape.ranks; r++)
      addIntoJs(this.memory.buffer, this.byteOffset(0, lo), this.byteOffset(r, lo), hi - lo);
  }

  private byteOffset(rank: number, element: number): number {
    return (rank * this.regionElements + element) * 4;
  }
}

function addIntoJs(buffer: ArrayBufferLike, dstByte: number, srcByte: number, n: number): void {
  const dst = new Float32Array(buffer, dstByte, n);
  const src = new Float32Array(buffer, srcByte, n);
  for (let i = 0; i < n; i++) dst[i]! += src[i]!;
}
