import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * CPU time the calling thread has run, in milliseconds, or null where the OS does not say. On a shared machine
 * the wall time of a data-parallel step mixes its own work with waiting for a core; a thread's CPU time does not.
 * Linux: /proc/thread-self/schedstat (its first field: nanoseconds on a CPU; readFileSync opens it from the
 * calling thread, so each worker thread reads its own). Node 20 has no process.threadCpuUsage.
 * Resolution: the kernel brings a running thread's figure up to date at each scheduler tick (4 ms at HZ=250,
 * as here) or switch, so one reading lags by up to a tick: average a few-ms quantity over many steps.
 */
let available = process.platform === 'linux';

export function threadCpuMs(): number | null {
  if (!available) return null;
  try {
    const ns = Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ', 1)[0]);
    if (Number.isFinite(ns)) return ns / 1e6;
  } catch {
    // no procfs here (a container without /proc, another OS)
  }
  available = false;
  return null;
}

/** b − a, or null when either is unknown. */
export function cpuSince(a: number | null, b: number | null = threadCpuMs()): number | null {
  return a === null || b === null ? null : b - a;
}

/** A wall-clock instant comparable between threads (each thread's performance.now() has its own origin). */
export function sharedClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The calling thread's kernel thread id (Linux: /proc/thread-self links to <pid>/task/<tid>), or null. */
export function threadId(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) ? tid : null;
  } catch {
    return null;
  }
}

/**
 * CPU milliseconds of every thread of this process so far, by kernel thread id, or null where the OS does not
 * say. Besides the JS threads it counts V8's helper threads (concurrent JIT compilation, GC marking and
 * scavenging for every isolate of the process) and libuv's: what runs beside the workers and takes a core.
 */
export function processThreadsCpuMs(): Map<number, number> | null {
  if (process.platform !== 'linux') return null;
  const out = new Map<number, number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'latin1').split(' ', 1)[0]);
        if (Number.isFinite(ns)) out.set(Number(tid), ns / 1e6);
      } catch {
        // the thread ended between the listing and the read
      }
    }
  } catch {
    return null;
  }
  return out;
}
