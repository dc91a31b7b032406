import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { cpuSince, processThreadsCpuMs, threadCpuMs, threadId } from './thread-cpu.ts';

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe.runIf(process.platform === 'linux')('threadCpuMs', () => {
  it("counts this thread's work and not its sleep", async () => {
    const a = threadCpuMs();
    expect(a).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 60));
    const slept = cpuSince(a)!;
    const b = threadCpuMs();
    spin(60);
    const spun = cpuSince(b)!;
    // Spinning 60 ms of wall time runs at least some of it (a loaded machine may take part of it away);
    // sleeping runs next to nothing. No bound on the spin's share: that would be a timed assertion.
    expect(spun).toBeGreaterThan(slept);
    expect(slept).toBeGreaterThanOrEqual(0);
  });

  it("is per thread: another thread's spinning counts there, not here", async () => {
    const a = threadCpuMs()!;
    const worker = new Worker(
      `const { readFileSync } = require('node:fs');
       const cpu = () => Number(readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]) / 1e6;
       const c0 = cpu(), end = performance.now() + 300;
       while (performance.now() < end);
       require('node:worker_threads').parentPort.postMessage(cpu() - c0);`,
      { eval: true },
    );
    const workerSpun = await new Promise<number>((resolve) => worker.once('message', resolve));
    await worker.terminate();
    // This thread only started the worker and waited for its message meanwhile.
    expect(workerSpun).toBeGreaterThan(cpuSince(a)!);
  });

  it("lists every thread's CPU time by thread id, this thread's and a worker's among them", async () => {
    const worker = new Worker(
      `const { readlinkSync } = require('node:fs');
       const { parentPort } = require('node:worker_threads');
       const end = performance.now() + 100;
       while (performance.now() < end);
       parentPort.postMessage(Number(readlinkSync('/proc/thread-self').split('/').pop()));
       parentPort.once('message', () => process.exit(0));`,
      { eval: true },
    );
    const workerTid = await new Promise<number>((resolve) => worker.once('message', resolve));
    const mine = threadId();
    expect(mine).not.toBeNull();
    expect(mine).not.toBe(workerTid);
    const before = threadCpuMs()!;
    const all = processThreadsCpuMs()!;
    expect(all.get(mine!)).toBeGreaterThanOrEqual(before - 1);
    // The worker spun 100 ms of wall time: some CPU time shows (not a timed bound: a loaded machine runs less).
    expect(all.get(workerTid)).toBeGreaterThan(0);
    worker.postMessage('exit');
    await new Promise((resolve) => worker.once('exit', resolve));
  });
});
