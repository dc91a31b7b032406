import * as tf from '@tensorflow/tfjs';

/**
 * How many times each named kernel of the active backend ran during `f` (for tests that must see which kernel took
 * an op, so that a kernel of our own cannot silently fall back to the backend's). Kernels registered lazily must be
 * registered before the call; a name with no kernel counts 0.
 */
export async function kernelCalls(names: string[], f: () => unknown): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const restore: (() => void)[] = [];
  for (const name of names) {
    counts[name] = 0;
    const kernel = tf.getKernel(name, tf.getBackend());
    if (!kernel) continue;
    const inner = kernel.kernelFunc;
    (kernel as { kernelFunc: typeof inner }).kernelFunc = (args) => {
      counts[name]!++;
      return inner(args);
    };
    restore.push(() => ((kernel as { kernelFunc: typeof inner }).kernelFunc = inner));
  }
  try {
    await f();
  } finally {
    for (const r of restore) r();
  }
  return counts;
}
