/**
 * Async-iterator helpers for subscriptions (the same shape as runs.ts uses): plain iterators rather
 * than async generators, so `return()` (unsubscribe) detaches the listener at once even while waiting.
 */
export function mapSignals<S, T>(signals: AsyncIterableIterator<S>, map: (s: S) => Promise<T>): AsyncIterableIterator<T> {
  const iterator: AsyncIterableIterator<T> = {
    next: async () => {
      const r = await signals.next();
      if (r.done) return { value: undefined, done: true };
      return { value: await map(r.value), done: false };
    },
    return: async () => {
      await signals.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

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
