import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * How many CPUs this process may really use: the cores it may run on (`os.availableParallelism()`, which
 * honours the CPU affinity mask, e.g. `taskset` or a cpuset) capped by its cgroup's CPU quota (a container's
 * `--cpus`, a Kubernetes CPU limit): quota / period, rounded down, at least 1. A quota of 1.5 CPUs gives 1:
 * a second worker thread would only be throttled.
 */
export interface CpuLimits {
  /** Cores the affinity mask allows. */
  parallelism: number;
  /** CPUs the cgroup quota allows (fractional), or null without a quota. */
  quota: number | null;
  /** What training should use: min(parallelism, ⌊quota⌋), at least 1. */
  usable: number;
}

type ReadFile = (path: string) => string | null;

const readOrNull: ReadFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

/** A cgroup directory and its ancestors up to the mount point (a quota on any of them applies). */
function withAncestors(mount: string, path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return Array.from({ length: parts.length + 1 }, (_, i) => [mount, ...parts.slice(0, parts.length - i)].join('/'));
}

/**
 * The cgroup CPU quota in CPUs (the smallest on this process's cgroup and its ancestors), or null: cgroup v2
 * `cpu.max` ("max 100000" or "150000 100000"), else v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (−1: none).
 * The cgroup comes from /proc/self/cgroup; in a container that namespaces cgroups it is the mount's root.
 */
export function cgroupCpuQuota(read: ReadFile = readOrNull): number | null {
  const self = read('/proc/self/cgroup') ?? '';
  const lines = self.split('\n').map((l) => l.split(':'));
  const v2Path = lines.find((l) => l[0] === '0' && l[1] === '')?.[2] ?? '/';
  const v1Path = lines.find((l) => l[1]?.split(',').includes('cpu'))?.[2] ?? '/';
  const quotas: number[] = [];
  for (const dir of withAncestors('/sys/fs/cgroup', v2Path)) {
    const max = read(`${dir}/cpu.max`)?.trim().split(/\s+/);
    if (!max || max[0] === 'max') continue;
    const q = Number(max[0]);
    const p = Number(max[1] ?? 100000);
    if (q > 0 && p > 0) quotas.push(q / p);
  }
  for (const mount of ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct']) {
    for (const dir of withAncestors(mount, v1Path)) {
      const q = Number(read(`${dir}/cpu.cfs_quota_us`)?.trim());
      const p = Number(read(`${dir}/cpu.cfs_period_us`)?.trim());
      if (q > 0 && p > 0) quotas.push(q / p);
    }
  }
  return quotas.length ? Math.min(...quotas) : null;
}

export function cpuLimits(deps: { parallelism?: number; read?: ReadFile } = {}): CpuLimits {
  const parallelism = deps.parallelism ?? availableParallelism();
  const quota = cgroupCpuQuota(deps.read);
  const usable = Math.max(1, Math.min(parallelism, quota === null ? parallelism : Math.floor(quota)));
  return { parallelism, quota, usable };
}

/** CPUs this process may really use (see CpuLimits). */
export function usableCpus(): number {
  return cpuLimits().usable;
}
