/**
 * Async-iterator helpers for subscriptions: plain iterators rather than async generators, so `return()`
 * (unsubscribe) detaches the listener at once even while waiting for the next event.
 */

/** Maps each signal to a fresh value, skipping values `keep` rejects. */
export function mapSignals<S, T>(
  signals: AsyncIterableIterator<S>,
  map: (s: S) => Promise<T>,
  keep: (v: T) => boolean = () => true,
): AsyncIterableIterator<T> {
  const iterator: AsyncIterableIterator<T> = {
    next: async () => {
      for (;;) {
        const r = await signals.next();
        if (r.done) return { value: undefined, done: true };
        const value = await map(r.value);
        if (keep(value)) return { value, done: false };
      }
    },
    return: async () => {
      await signals.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

/** `first`, then whatever `rest` yields. */
export function startWith<T>(first: T, rest: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  let sent = false;
  const iterator: AsyncIterableIterator<T> = {
    next: () => {
      if (!sent) {
        sent = true;
        return Promise.resolve({ value: first, done: false });
      }
      return rest.next();
    },
    return: async () => {
      await rest.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
