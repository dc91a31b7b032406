import { describe, expect, it } from 'vitest';
import { cgroupCpuQuota, cpuLimits } from './cpus.ts';

const files = (entries: Record<string, string>) => (path: string) => entries[path] ?? null;

describe('CPU limits', () => {
  it('reads a cgroup v2 quota on the process cgroup or an ancestor (the smallest wins)', () => {
    const read = files({
      '/proc/self/cgroup': '0::/kubepods/pod1/c1\n',
      '/sys/fs/cgroup/kubepods/pod1/c1/cpu.max': 'max 100000\n',
      '/sys/fs/cgroup/kubepods/pod1/cpu.max': '250000 100000\n',
      '/sys/fs/cgroup/kubepods/cpu.max': '800000 100000\n',
    });
    expect(cgroupCpuQuota(read)).toBe(2.5);
    expect(cpuLimits({ parallelism: 16, read })).toEqual({ parallelism: 16, quota: 2.5, usable: 2 });
    expect(cpuLimits({ parallelism: 1, read }).usable).toBe(1);
  });

  it('reads cgroup v1 cfs files; −1 or no files means no quota', () => {
    const v1 = files({
      '/proc/self/cgroup': '4:memory:/x\n1:cpu,cpuacct:/docker/abc\n0::/\n',
      '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '150000\n',
      '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
    });
    expect(cgroupCpuQuota(v1)).toBe(1.5);
    expect(cpuLimits({ parallelism: 8, read: v1 }).usable).toBe(1);
    const none = files({
      '/proc/self/cgroup': '1:cpu:/\n',
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
    });
    expect(cgroupCpuQuota(none)).toBeNull();
    expect(cpuLimits({ parallelism: 8, read: files({}) })).toEqual({ parallelism: 8, quota: null, usable: 8 });
  });

  it('a quota under one CPU still gives one worker', () => {
    const read = files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '50000 100000' });
    expect(cpuLimits({ parallelism: 4, read }).usable).toBe(1);
  });
});
