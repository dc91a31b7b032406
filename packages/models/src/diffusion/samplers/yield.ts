/**
 * Gives the event loop a turn between sampling steps so a page, worker or server stays responsive.
 * setImmediate in Node; a MessageChannel in browsers and workers (setTimeout is clamped to ≥4 ms and
 * requestAnimationFrame stops in background tabs).
 */
export function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown };
  if (typeof g.setImmediate === 'function') {
    const setImmediateFn = g.setImmediate;
    return new Promise((resolve) => setImmediateFn(resolve));
  }
  if (typeof MessageChannel !== 'undefined') {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        channel.port1.close();
        resolve();
      };
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const error = new Error('sampling aborted');
    error.name = 'AbortError';
    throw error;
  }
}
