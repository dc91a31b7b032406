/**
 * Runs async work with bounded concurrency and commits results strictly in submission order, so
 * parallel decoding still produces deterministic output. At most `concurrency` items run at once;
 * up to `window` items (and `maxWeight` of their weight, e.g. input bytes, but always one item)
 * may be running or finished-and-waiting for an earlier item, so one slow image does not idle
 * the other workers. `submit` waits while the window is full, which bounds memory.
 */
export class OrderedPool<R> {
  private readonly queue: { promise: Promise<R>; weight: number }[] = [];
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private weight = 0;

  constructor(
    private readonly concurrency: number,
    private readonly commit: (result: R) => Promise<void> | void,
    private readonly window = concurrency * 3,
    private readonly maxWeight = Number.POSITIVE_INFINITY,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }

  async submit(work: () => Promise<R>, weight = 0): Promise<void> {
    const promise = this.run(work);
    promise.catch(() => undefined); // rejections surface in order, when committed
    this.queue.push({ promise, weight });
    this.weight += weight;
    while (this.queue.length >= this.window || (this.queue.length > 1 && this.weight > this.maxWeight))
      await this.commitHead();
  }

  async drain(): Promise<void> {
    while (this.queue.length > 0) await this.commitHead();
  }

  /** After a failure: wait for work still running, without committing it. */
  async abandon(): Promise<void> {
    const pending = this.queue.splice(0).map((item) => item.promise);
    await Promise.allSettled(pending);
  }

  private async run(work: () => Promise<R>): Promise<R> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running += 1;
    try {
      return await work();
    } finally {
      this.running -= 1;
      this.waiting.shift()?.();
    }
  }

  private async commitHead(): Promise<void> {
    const head = this.queue.shift()!;
    this.weight -= head.weight;
    await this.commit(await head.promise);
  }
}

/** Object writes that may overlap (thumbnails), bounded, with the first failure reported. */
export class WriteQueue {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: Error | null = null;

  constructor(private readonly concurrency: number) {}

  async push(write: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    this.throwIfFailed(); // a write may have failed while this one waited
    const promise = write()
      .catch((error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => this.inFlight.delete(promise));
    this.inFlight.add(promise);
  }

  /** Waits for every write; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
