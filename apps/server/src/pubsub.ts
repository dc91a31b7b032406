import { EventEmitter } from 'node:events';

/** Events kept per subscriber while it is slow; older ones are dropped first. */
const MAX_QUEUED = 1000;

/**
 * In-process publish/subscribe feeding GraphQL subscriptions. Channels are strings such as
 * `team:<id>:members`. With several hub replicas this would move to Postgres LISTEN/NOTIFY.
 */
export class PubSub<T> {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(channel: string, event: T): void {
    this.emitter.emit(channel, event);
  }

  listenerCount(channel: string): number {
    return this.emitter.listenerCount(channel);
  }

  /** Calls `listener` with each event of the channel until the returned function is called. */
  on(channel: string, listener: (event: T) => void): () => void {
    this.emitter.on(channel, listener);
    return () => this.emitter.off(channel, listener);
  }

  /** An async iterator of the channel's events; `return()` (called by graphql-js on unsubscribe) detaches it. */
  subscribe(channel: string): AsyncIterableIterator<T> {
    const queue: T[] = [];
    let waiting: ((r: IteratorResult<T>) => void) | null = null;
    let finished = false;
    const listener = (event: T) => {
      if (waiting) {
        const resolve = waiting;
        waiting = null;
        resolve({ value: event, done: false });
        return;
      }
      queue.push(event);
      if (queue.length > MAX_QUEUED) queue.shift();
    };
    this.emitter.on(channel, listener);
    const done = (): IteratorResult<T> => ({ value: undefined, done: true });
    const iterator: AsyncIterableIterator<T> = {
      next: () => {
        const event = queue.shift();
        if (event !== undefined) return Promise.resolve({ value: event, done: false });
        if (finished) return Promise.resolve(done());
        return new Promise((resolve) => (waiting = resolve));
      },
      return: () => {
        finished = true;
        this.emitter.off(channel, listener);
        waiting?.(done());
        waiting = null;
        return Promise.resolve(done());
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}
