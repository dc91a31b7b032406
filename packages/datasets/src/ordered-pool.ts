/**
 * Runs async work with bounded concurrency and commits results strictly in submission order, so
 * parallel decoding still produces deterministic output. `submit` waits while `concurrency` items
 * are in flight or waiting to be committed, which bounds memory to that many items.
 */
export class OrderedPool<R> {
  private readonly queue: Promise<R>[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly commit: (result: R) => Promise<void> | void,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }

  async submit(work: () => Promise<R>): Promise<void> {
    const promise = work();
    promise.catch(() => undefined); // rejections surface in order, when committed
    this.queue.push(promise);
    while (this.queue.length >= this.concurrency) await this.commitHead();
  }

  async drain(): Promise<void> {
    while (this.queue.length > 0) await this.commitHead();
  }

  /** After a failure: wait for work still running, without committing it. */
  async abandon(): Promise<void> {
    const pending = this.queue.splice(0);
    await Promise.allSettled(pending);
  }

  private async commitHead(): Promise<void> {
    const head = this.queue.shift()!;
    await this.commit(await head);
  }
}

/** Object writes that may overlap (thumbnails), bounded, with the first failure reported. */
export class WriteQueue {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;

  constructor(private readonly concurrency: number) {}

  async push(write: () => Promise<void>): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    const promise = write()
      .catch((error) => {
        this.failure ??= error;
      })
      .finally(() => this.inFlight.delete(promise));
    this.inFlight.add(promise);
  }

  /** Waits for every write; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    if (this.failure) throw this.failure;
  }
}
