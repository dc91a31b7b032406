import type { Worker } from 'node:worker_threads';
import type { ObjectStore } from '@dapple/storage';
import type {
  EvaluateTask,
  EvaluationResult,
  FromWorker,
  ModelRef,
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
  /** Index of the worker that ran it. */
  worker: number;
}

interface Task {
  id: number;
  model: ModelRef;
  onProgress?: (done: number, total: number) => void;
  resolve(r: TaskResult | EvaluationResult): void;
  reject(e: Error): void;
}

interface Slot {
  index: number;
  worker: Worker;
  ready: Promise<string>;
  task: Task | null;
  /** Model ids this worker has loaded (most recent last), for routing a task to a warm worker. */
  warm: string[];
  dead: Error | null;
}

export class SamplingError extends Error {
  override name = 'SamplingError';
}

/**
 * A fixed pool of sampling worker threads. run() sends a task to an idle worker, preferring one that
 * already has the model loaded; the caller (the scheduler) never runs more tasks than `size` at once.
 * A crashed worker fails its task and is replaced.
 */
export class SamplingPool {
  private readonly slots: Slot[] = [];
  private nextTaskId = 1;
  private closed = false;

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
  run(
    model: ModelRef,
    request: TaskRequest,
    onProgress?: (done: number, total: number) => void,
    signal?: AbortSignal,
  ): Promise<TaskResult> {
    return this.dispatch(
      model,
      onProgress,
      (taskId) => ({ type: 'sample', taskId, model, request }),
      signal,
    ) as Promise<TaskResult>;
  }

  /** Runs a whole evaluation (generate, read real images, extract, KID/FID/IS) in a worker. */
  evaluate(
    model: ModelRef,
    task: EvaluateTask,
    onProgress?: (done: number, total: number) => void,
  ): Promise<EvaluationResult> {
    return this.dispatch(model, onProgress, (taskId) => ({
      type: 'evaluate',
      taskId,
      model,
      task,
    })) as Promise<EvaluationResult>;
  }

  private dispatch(
    model: ModelRef,
    onProgress: ((done: number, total: number) => void) | undefined,
    message: (taskId: number) => ToWorker,
    signal?: AbortSignal,
  ): Promise<TaskResult | EvaluationResult> {
    if (this.closed) return Promise.reject(new SamplingError('the sampling pool is closed'));
    if (signal?.aborted) return Promise.reject(new SamplingError('cancelled'));
    const free = this.slots.filter((s) => !s.task);
    if (!free.length)
      return Promise.reject(
        new SamplingError('no idle sampling worker (the scheduler must not oversubscribe the pool)'),
      );
    const slot = free.find((s) => s.warm.includes(model.id)) ?? free.find((s) => !s.warm.length) ?? free[0]!;
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

  async close(): Promise<void> {
    this.closed = true;
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
    const slot: Slot = { index, worker, ready, task: null, warm: [], dead: null };
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
        if (slot.task?.id === msg.taskId) slot.task.onProgress?.(msg.done, msg.total);
        return;
      case 'done':
      case 'evaluated':
      case 'error': {
        const task = slot.task;
        if (task?.id !== msg.taskId) return;
        slot.task = null;
        if (msg.type === 'done')
          task.resolve({
            pngs: msg.pngs,
            width: msg.width,
            height: msg.height,
            timing: msg.timing,
            worker: slot.index,
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
