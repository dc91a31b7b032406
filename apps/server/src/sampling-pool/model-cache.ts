/**
 * Least-recently-used cache of loaded models, bounded by count and by parameter bytes. Evicted
 * entries are disposed (their tensors freed). An entry larger than the byte budget on its own is
 * still kept (the cache then holds just it) so any model can be sampled.
 */
export interface Sized {
  readonly paramBytes: number;
  dispose(): void;
}

export class ModelCache<V extends Sized> {
  private readonly entries = new Map<string, V>();
  private bytes = 0;

  constructor(private readonly limits: { maxModels: number; maxParamBytes: number }) {
    if (!Number.isInteger(limits.maxModels) || limits.maxModels < 1)
      throw new RangeError(`maxModels must be a positive integer, got ${limits.maxModels}`);
    if (!(limits.maxParamBytes > 0)) throw new RangeError(`maxParamBytes must be > 0, got ${limits.maxParamBytes}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** The entry, marked most recently used. */
  get(key: string): V | undefined {
    const v = this.entries.get(key);
    if (v) {
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }

  /** Adds an entry and evicts the least recently used ones until both limits hold. */
  set(key: string, value: V): void {
    const old = this.entries.get(key);
    if (old) this.delete(key);
    // Evict before adding: two large models must never be resident together beyond the budget.
    for (const [k, v] of this.entries) {
      if (this.entries.size < this.limits.maxModels && this.bytes + value.paramBytes <= this.limits.maxParamBytes)
        break;
      this.entries.delete(k);
      this.bytes -= v.paramBytes;
      v.dispose();
    }
    this.entries.set(key, value);
    this.bytes += value.paramBytes;
  }

  delete(key: string): void {
    const v = this.entries.get(key);
    if (!v) return;
    this.entries.delete(key);
    this.bytes -= v.paramBytes;
    v.dispose();
  }

  clear(): void {
    for (const key of [...this.entries.keys()]) this.delete(key);
  }
}
