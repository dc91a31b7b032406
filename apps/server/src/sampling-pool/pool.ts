import type { Worker } from 'node:worker_threads';
import type { ObjectStore } from '@dapple/storage';
import type {
  EvaluateTask,
  EvaluationResult,
  FromWorker,
  ModelRef,
  ProgressListener,
  TaskRequest,
  TaskTiming,
  ToWorker,
  WorkerOptions,
} from './protocol.ts';
import { spawnSamplingWorker } from './spawn.ts';

export interface SamplingPoolOptions extends WorkerOptions {
  /** Worker threads (each runs one task at a time). */
  size: number;
  /** Where model files are read from (the hub's store; workers get bytes through the hub thread). */
  store: ObjectStore;
  /** Test seam: how a worker is started. */
  spawn?: (options: WorkerOptions) => Worker;
}

export interface TaskResult {
  pngs: Uint8Array[];
  width: number;
  height: number;
  timing: TaskTiming;
  /** Index of the worker that ran it (the first share's, when it was split). */
  worker: number;
  /** Workers that ran a share of it. */
  workers: number;
}

interface Task {
  id: number;
  model: ModelRef;
  onProgress?: ProgressListener;
  resolve(r: TaskResult | EvaluationResult): void;
  reject(e: Error): void;
}

interface Slot {
  index: number;
  worker: Worker;
  ready: Promise<string>;
  task: Task | null;
  /** The task is a share of a split sample task that borrowed this idle worker (it frees up soon). */
  helping: boolean;
  /** Model ids this worker has loaded (most recent last), for routing a task to a warm worker. */
  warm: string[];
  dead: Error | null;
}

export class SamplingError extends Error {
  override name = 'SamplingError';
}

/** A worker picked for a task whose message is being sent (between take and dispatch, the same tick). */
const RESERVED: Task = { id: -1, model: null as unknown as ModelRef, resolve() {}, reject() {} };

/** n images in k contiguous shares as even as possible, larger first (10 over 3: 4, 3, 3). */
export function splitEvenly(n: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
}

/**
 * A fixed pool of sampling worker threads. run() sends a task to an idle worker, preferring one that
 * already has the model loaded; the caller (the scheduler) never runs more tasks than `size` at once.
 * A crashed worker fails its task and is replaced.
 *
 * A sample task of several images also borrows the other idle workers: its images are cut into contiguous
 * shares, one per worker, each sampled with its first image's index (firstImageIndex), so every image is
 * the one a single worker would draw (per-image noise streams) and the same seed gives the same images
 * whatever the pool size. A task that arrives while workers are lent waits for the first share to finish
 * (at most one share's time) instead of being refused.
 */
export class SamplingPool {
  private readonly slots: Slot[] = [];
  private nextTaskId = 1;
  private closed = false;
  /** Tasks waiting for a lent worker to come back. */
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly options: SamplingPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new RangeError(`sampling pool size must be a positive integer, got ${options.size}`);
    for (let i = 0; i < options.size; i++) this.slots.push(this.start(i));
  }

  get size(): number {
    return this.slots.length;
  }

  get idle(): number {
    return this.slots.filter((s) => !s.task).length;
  }

  /** Resolves with the backend of each worker once all have started. */
  ready(): Promise<string[]> {
    return Promise.all(this.slots.map((s) => s.ready));
  }

  /** Samples images (PNG-encoded in the worker). Aborting `signal` stops the worker between denoising steps. */
  async run(
    model: ModelRef,
    request: TaskRequest,
    onProgress?: (done: number, total: number) => void,
    signal?: AbortSignal,
  ): Promise<TaskResult> {
    const shares = [await this.acquire(model.id, signal)];
    // Helpers: workers idle right now, one per image at most. None is waited for.
    // An interpolation is one pass over all its frames (they share the two encoded ends): never split.
    const helpers = request.interpolate ? 0 : request.count - 1;
    for (const slot of this.pickIdle(model.id, helpers)) shares.push(this.take(slot, true));
    const sizes = splitEvenly(request.count, shares.length);
    const first = request.firstImageIndex ?? 0;
    const progress = sizes.map(() => ({ done: 0, total: 0 }));
    const report = () =>
      onProgress?.(
        progress.reduce((n, p) => n + p.done, 0),
        progress.reduce((n, p) => n + p.total, 0),
      );
    const parts = shares.map((slot, i) => {
      const start = sizes.slice(0, i).reduce((a, b) => a + b, 0);
      const share: TaskRequest = { ...request, count: sizes[i]!, firstImageIndex: first + start };
      return this.dispatch(
        slot,
        model,
        (done, total) => {
          progress[i] = { done, total };
          report();
        },
        (taskId) => ({ type: 'sample', taskId, model, request: share }),
        signal,
      ) as Promise<TaskResult>;
    });
    const taskIds = shares.map((slot) => slot.task?.id); // dispatch set them synchronously
    let results: TaskResult[];
    try {
      results = await Promise.all(parts);
    } catch (err) {
      // One share failed: the others stop between denoising steps.
      shares.forEach((slot, i) => {
        if (slot.task && slot.task.id === taskIds[i]) this.post(slot, { type: 'cancel', taskId: slot.task.id });
      });
      await Promise.allSettled(parts);
      throw err;
    }
    return {
      pngs: results.flatMap((r) => r.pngs),
      width: results[0]!.width,
      height: results[0]!.height,
      timing: {
        loadMs: Math.max(...results.map((r) => r.timing.loadMs)),
        sampleMs: Math.max(...results.map((r) => r.timing.sampleMs)),
        encodeMs: Math.max(...results.map((r) => r.timing.encodeMs)),
        cacheHit: results.every((r) => r.timing.cacheHit),
      },
      worker: results[0]!.worker,
      workers: results.length,
    };
  }

  /** Runs a whole evaluation (generate, read real images, extract, KID/FID/IS) in a worker; `signal` stops it. */
  async evaluate(
    model: ModelRef,
    task: EvaluateTask,
    onProgress?: ProgressListener,
    signal?: AbortSignal,
  ): Promise<EvaluationResult> {
    const slot = await this.acquire(model.id, signal);
    return this.dispatch(
      slot,
      model,
      onProgress,
      (taskId) => ({ type: 'evaluate', taskId, model, task }),
      signal,
    ) as Promise<EvaluationResult>;
  }

  /** Idle workers, those with the model loaded first, then empty ones. */
  private pickIdle(modelId: string, max: number): Slot[] {
    const free = this.slots.filter((s) => !s.task);
    const rank = (s: Slot) => (s.warm.includes(modelId) ? 0 : s.warm.length ? 2 : 1);
    return free.sort((a, b) => rank(a) - rank(b) || a.index - b.index).slice(0, Math.max(0, max));
  }

  /**
   * A worker for a task the caller is entitled to (the scheduler runs at most `size` at once): an idle one, or,
   * while idle workers are lent to another task's shares, the first of them to come back.
   */
  private async acquire(modelId: string, signal?: AbortSignal): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new SamplingError('the sampling pool is closed');
      if (signal?.aborted) throw new SamplingError('cancelled');
      const [slot] = this.pickIdle(modelId, 1);
      if (slot) return this.take(slot, false);
      if (!this.slots.some((s) => s.helping))
        throw new SamplingError('no idle sampling worker (the scheduler must not oversubscribe the pool)');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** Marks a worker taken until dispatch gives it its task (the same tick). */
  private take(slot: Slot, helping: boolean): Slot {
    slot.task = RESERVED;
    slot.helping = helping;
    return slot;
  }

  /** A worker came free: whoever waits for one looks again. */
  private freed(): void {
    const waiting = this.waiting.splice(0);
    for (const wake of waiting) wake();
  }

  private dispatch(
    slot: Slot,
    model: ModelRef,
    onProgress: ProgressListener | undefined,
    message: (taskId: number) => ToWorker,
    signal?: AbortSignal,
  ): Promise<TaskResult | EvaluationResult> {
    if (this.closed) return Promise.reject(new SamplingError('the sampling pool is closed'));
    if (signal?.aborted) {
      this.release(slot);
      return Promise.reject(new SamplingError('cancelled'));
    }
    return new Promise<TaskResult | EvaluationResult>((resolve, reject) => {
      const task: Task = { id: this.nextTaskId++, model, ...(onProgress ? { onProgress } : {}), resolve, reject };
      slot.task = task;
      slot.warm = [...slot.warm.filter((id) => id !== model.id), model.id].slice(-Math.max(1, this.options.maxModels));
      this.post(slot, message(task.id));
      signal?.addEventListener(
        'abort',
        () => slot.task?.id === task.id && this.post(slot, { type: 'cancel', taskId: task.id }),
        { once: true },
      );
    });
  }

  private release(slot: Slot): void {
    slot.task = null;
    slot.helping = false;
    this.freed();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.freed();
    await Promise.all(
      this.slots.map(async (s) => {
        s.task?.reject(new SamplingError('the sampling pool is closing'));
        s.task = null;
        await s.worker.terminate();
      }),
    );
  }

  private post(slot: Slot, msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    slot.worker.postMessage(msg, transfer);
  }

  private start(index: number): Slot {
    const worker = (this.options.spawn ?? spawnSamplingWorker)({
      backend: this.options.backend,
      maxModels: this.options.maxModels,
      maxParamBytes: this.options.maxParamBytes,
    });
    let markReady!: (backend: string) => void;
    let failReady!: (err: Error) => void;
    const ready = new Promise<string>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    ready.catch(() => undefined);
    const slot: Slot = { index, worker, ready, task: null, helping: false, warm: [], dead: null };
    worker.on('message', (msg: FromWorker) => void this.onMessage(slot, msg, markReady));
    worker.on('error', (err) => {
      slot.dead = err;
      failReady(err);
    });
    worker.on('exit', (code) => {
      const task = slot.task;
      slot.task = null;
      if (this.closed) return;
      task?.reject(
        new SamplingError(
          `the sampling worker stopped (exit code ${code}${slot.dead ? `: ${slot.dead.message}` : ''})`,
        ),
      );
      // Replace it so the pool keeps its size.
      this.slots[index] = this.start(index);
      this.freed();
    });
    return slot;
  }

  private async onMessage(slot: Slot, msg: FromWorker, markReady: (backend: string) => void): Promise<void> {
    switch (msg.type) {
      case 'ready':
        markReady(msg.backend);
        return;
      case 'read': {
        try {
          const bytes = await readAll(this.options.store, msg.key);
          this.post(slot, { type: 'readResult', readId: msg.readId, bytes }, [bytes.buffer as ArrayBuffer]);
        } catch (err) {
          this.post(slot, {
            type: 'readResult',
            readId: msg.readId,
            error: `reading ${msg.key}: ${err instanceof Error ? err.message : String(err)}`,
          });
        }
        return;
      }
      case 'progress':
        if (slot.task?.id === msg.taskId) slot.task.onProgress?.(msg.done, msg.total, msg.phase);
        return;
      case 'done':
      case 'evaluated':
      case 'error': {
        const task = slot.task;
        if (task?.id !== msg.taskId) return;
        this.release(slot);
        if (msg.type === 'done')
          task.resolve({
            pngs: msg.pngs,
            width: msg.width,
            height: msg.height,
            timing: msg.timing,
            worker: slot.index,
            workers: 1,
          });
        else if (msg.type === 'evaluated') task.resolve(msg.result);
        else {
          slot.warm = slot.warm.filter((id) => id !== task.model.id);
          task.reject(new SamplingError(msg.message));
        }
      }
    }
  }
}

async function readAll(store: ObjectStore, key: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key)) chunks.push(chunk as Buffer);
  const buf = Buffer.concat(chunks);
  // A fresh ArrayBuffer of exactly this size, so it can be transferred to the worker.
  const out = new Uint8Array(buf.byteLength);
  out.set(buf);
  return out;
}
