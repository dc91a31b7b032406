import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuSlotEnv, cpuSlots, withCpuSlots } from './cpu-slots.ts';
import { attemptLogFiles, LocalExecutor } from './local.ts';

describe('CPU slots', () => {
  it('split the usable cores between CPU slots, so two CPU runs do not both take every core', () => {
    expect(cpuSlots(1, 16)).toEqual([{ id: 'cpu', gpu: null, cpus: 16 }]);
    expect(cpuSlots(2, 16).map((s) => [s.id, s.cpus])).toEqual([
      ['cpu0', 8],
      ['cpu1', 8],
    ]);
    expect(cpuSlots(3, 8).map((s) => s.cpus)).toEqual([3, 3, 2]);
    expect(cpuSlots(4, 2).map((s) => s.cpus)).toEqual([1, 1]); // never more slots than cores
    expect(() => cpuSlots(0, 4)).toThrow(/CPU slots must be a whole number ≥ 1, got 0/);
  });

  it('replace only the CPU fallback of GPU detection, and tell the trainer its cores', () => {
    const gpus = [
      { id: 'gpu0', gpu: 0 },
      { id: 'gpu1', gpu: 1 },
    ];
    expect(withCpuSlots(gpus, 2, 8)).toBe(gpus);
    expect(withCpuSlots([{ id: 'cpu', gpu: null }], 2, 8)).toEqual(cpuSlots(2, 8));
    expect(cpuSlotEnv({ id: 'cpu1', gpu: null, cpus: 4 })).toEqual({ DAPPLE_CPU_WORKERS: '4' });
    expect(cpuSlotEnv({ id: 'gpu0', gpu: 0 })).toEqual({});
    expect(cpuSlotEnv({ id: 'cpu', gpu: null })).toEqual({}); // fixed slot without a count: the trainer decides
  });

  it("the local executor starts a CPU slot's trainer with DAPPLE_CPU_WORKERS (a real child process)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dapple-cpu-slots-'));
    try {
      const script = join(dir, 'trainer.mjs');
      await writeFile(script, "process.stdout.write(`workers=${process.env.DAPPLE_CPU_WORKERS ?? 'unset'}`);\n");
      const executor = new LocalExecutor({ logDir: dir, command: [process.execPath, script], cpuSlots: 2 });
      const slots = await executor.slots();
      expect(slots.every((s) => s.gpu === null && s.cpus! >= 1)).toBe(true); // no GPU on this machine
      const exited = new Promise<void>((resolve) => executor.onExit(() => resolve()));
      const runId = '6f1c1d1e-8a3b-4c5d-9e6f-7a8b9c0d1e2f';
      await executor.start({
        runId,
        attempt: 1,
        hubUrl: 'http://127.0.0.1:1',
        runToken: 't'.repeat(32),
        slot: { id: 'cpu1', gpu: null, cpus: 3 },
        env: { DAPPLE_CPU_WORKERS: '64' }, // the slot decides, not a hub-wide setting
      });
      await exited;
      expect(await readFile(attemptLogFiles(dir, runId, 1).stdout, 'utf8')).toBe('workers=3');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
