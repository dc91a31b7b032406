import { usableCpus } from '@dapple/models/node';
import type { ExecutorSlot } from './types.ts';

/**
 * CPU slots of the local executor. A CPU trainer trains data-parallel on worker threads, one per core it is
 * given (packages/models/src/parallel/): left alone it takes every core this machine lets it use. So the
 * executor hands each CPU slot a share of the cores and tells the trainer (DAPPLE_CPU_WORKERS): two CPU runs
 * side by side get half the cores each instead of both taking all of them.
 */

/** The cores this hub may use split into `count` slots as evenly as possible (at most one slot per core). */
export function cpuSlots(count = 1, cpus = usableCpus()): ExecutorSlot[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`CPU slots must be a whole number ≥ 1, got ${count}`);
  const n = Math.min(count, Math.max(1, cpus));
  return Array.from({ length: n }, (_, i) => ({
    // One slot keeps the id of the executor's original single CPU slot (stored in existing runs).
    id: n === 1 ? 'cpu' : `cpu${i}`,
    gpu: null,
    cpus: Math.floor(cpus / n) + (i < cpus % n ? 1 : 0) || 1,
  }));
}

/** Slots as detected, with the CPU fallback (no GPU) split into `count` CPU slots. GPU slots are left alone. */
export function withCpuSlots(detected: ExecutorSlot[], count = 1, cpus = usableCpus()): ExecutorSlot[] {
  if (detected.some((s) => s.gpu !== null)) return detected;
  return cpuSlots(count, cpus);
}

/** What a trainer in this slot is told about its cores (nothing for a slot without a core count). */
export function cpuSlotEnv(slot: ExecutorSlot): Record<string, string> {
  return slot.gpu === null && slot.cpus !== undefined ? { DAPPLE_CPU_WORKERS: String(slot.cpus) } : {};
}
