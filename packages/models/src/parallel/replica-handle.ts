import type { Worker } from 'node:worker_threads';
import type { FromReplica, ToReplica } from './protocol.ts';

/** A CPU worker thread failed (crashed, exited, could not start, or threw): the message names it. */
export class ReplicaError extends Error {
  override name = 'ReplicaError';
}

interface Pending {
  resolve(msg: FromReplica): void;
  reject(err: Error): void;
}

/**
 * The coordinator's end of one replica thread: requests with ids, each answered once, and the thread's death
 * (an uncaught error, an exit, a failed start) turned into one ReplicaError that fails every pending and later
 * request, naming the worker.
 */
export class ReplicaHandle {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  failure: Error | null = null;
  readonly ready: Promise<Extract<FromReplica, { type: 'ready' }>>;
  private onFailure: ((err: Error) => void) | null = null;

  constructor(
    readonly rank: number,
    readonly ranks: number,
    readonly worker: Worker,
  ) {
    let markReady!: (msg: Extract<FromReplica, { type: 'ready' }>) => void;
    this.ready = new Promise((resolve, reject) => {
      markReady = resolve;
      this.onFailure = reject;
    });
    this.ready.catch(() => undefined);
    let lastError = '';
    worker.on('message', (msg: FromReplica) => {
      if (msg.type === 'ready') return markReady(msg);
      if (msg.type === 'error' && msg.id === null) {
        lastError = msg.message;
        return this.fail(new ReplicaError(`${this.name} could not start: ${msg.message}`));
      }
      const id = msg.id ?? -1;
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      if (msg.type === 'error') p.reject(new ReplicaError(`${this.name} failed: ${msg.message}`));
      else p.resolve(msg);
    });
    worker.on('error', (err) => {
      lastError = err.stack ?? err.message;
      this.fail(new ReplicaError(`${this.name} crashed: ${err.message}`));
    });
    worker.on('exit', (code) => {
      this.fail(
        new ReplicaError(`${this.name} stopped (exit code ${code}${lastError ? `: ${lastError.split('\n')[0]}` : ''})`),
      );
    });
  }

  get name(): string {
    return `CPU worker ${this.rank + 1} of ${this.ranks} (a worker thread; worker 1 is the trainer thread)`;
  }

  request<T extends FromReplica['type']>(
    msg: ToReplica extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never,
    expect: T,
    transfer: ArrayBuffer[] = [],
  ): Promise<Extract<FromReplica, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const reply = new Promise<FromReplica>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...msg, id }, transfer);
    }).then((reply) => {
      if (reply.type !== expect) throw new ReplicaError(`${this.name} answered ${reply.type} to ${msg.type}`);
      return reply as Extract<FromReplica, { type: T }>;
    });
    // A step that fails early leaves other requests unawaited: their rejection must not crash the process.
    reply.catch(() => undefined);
    return reply;
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.onFailure?.(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
