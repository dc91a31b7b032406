import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskStore, S3Store } from '@dapple/storage';
import { afterAll, describe, expect, it } from 'vitest';
import {
  hubConfigFromEnv,
  kubernetesExecutorFromEnv,
  loadOrCreateSecret,
  objectStoreFromEnv,
  publicUrlFromEnv,
} from './config.ts';
import { loadEnv } from './env.ts';
import { LocalExecutor } from './executors/local.ts';
import { usableCpus } from '@dapple/models/node';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function dataDir() {
  const dir = await mkdtemp(join(tmpdir(), 'dapple-config-'));
  dirs.push(dir);
  return dir;
}

describe('config from env', () => {
  it('generates DAPPLE_SECRET once, keeps it private, and reuses it', async () => {
    const env = loadEnv({ DAPPLE_DATA_DIR: await dataDir() });
    const first = await loadOrCreateSecret(env);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect((await stat(join(env.DAPPLE_DATA_DIR, 'secret'))).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateSecret(env)).toBe(first);
    const given = 'g'.repeat(40);
    expect(await loadOrCreateSecret(loadEnv({ DAPPLE_DATA_DIR: env.DAPPLE_DATA_DIR, DAPPLE_SECRET: given }))).toBe(
      given,
    );
  });

  it('picks the disk store by default and S3 when S3_* is set', async () => {
    const dir = await dataDir();
    expect(objectStoreFromEnv(loadEnv({ DAPPLE_DATA_DIR: dir }), 's'.repeat(32))).toBeInstanceOf(DiskStore);
    const s3 = objectStoreFromEnv(
      loadEnv({
        S3_ENDPOINT: 'http://127.0.0.1:9000',
        S3_ACCESS_KEY: 'k',
        S3_SECRET_KEY: 'secret',
        S3_BUCKET: 'dapple',
      }),
      's'.repeat(32),
    );
    expect(s3).toBeInstanceOf(S3Store);
  });

  it('derives the public URL and requires a database URL', async () => {
    expect(publicUrlFromEnv(loadEnv({ HOST: '0.0.0.0', PORT: '4100' }))).toBe('http://localhost:4100');
    expect(publicUrlFromEnv(loadEnv({ PUBLIC_URL: 'https://hub.example.com/' }))).toBe('https://hub.example.com');
    const env = loadEnv({ DAPPLE_DATA_DIR: await dataDir(), PORT: '4100', LOG_LEVEL: 'warn' });
    await expect(hubConfigFromEnv(env)).rejects.toThrow(/DATABASE_URL/);
    const config = await hubConfigFromEnv(env, { databaseUrl: 'postgres://u:p@127.0.0.1:5432/d' });
    expect(config).toMatchObject({
      databaseUrl: 'postgres://u:p@127.0.0.1:5432/d',
      port: 4100,
      logLevel: 'warn',
      publicUrl: 'http://127.0.0.1:4100',
    });
    expect(config.store).toBeInstanceOf(DiskStore);
  });
});

describe('executor from env', () => {
  it('runs trainers locally by default and as Kubernetes Jobs with DAPPLE_EXECUTOR=kubernetes', async () => {
    const dir = await dataDir();
    const local = await hubConfigFromEnv(loadEnv({ DAPPLE_DATA_DIR: dir }), {
      databaseUrl: 'postgres://x@127.0.0.1/x',
    });
    expect(local.runs?.executor).toBeUndefined(); // the hub's default: LocalExecutor
    expect(local.runs?.logDir).toBe(join(dir, 'run-logs'));
    // DAPPLE_CPU_SLOTS: a local executor whose CPU slots share the cores (no GPU here).
    const shared = await hubConfigFromEnv(loadEnv({ DAPPLE_DATA_DIR: dir, DAPPLE_CPU_SLOTS: '2' }), {
      databaseUrl: 'postgres://x@127.0.0.1/x',
    });
    const cpuSlots = await (shared.runs?.executor as LocalExecutor).slots();
    expect(cpuSlots.every((s) => s.gpu === null && s.cpus !== undefined)).toBe(true);
    expect(cpuSlots.reduce((n, s) => n + s.cpus!, 0)).toBe(usableCpus());
    expect(() => loadEnv({ DAPPLE_DATA_DIR: dir, DAPPLE_CPU_SLOTS: '0' })).toThrow(/DAPPLE_CPU_SLOTS/);

    expect(() => loadEnv({ DAPPLE_DATA_DIR: dir, DAPPLE_EXECUTOR: 'kubernetes' })).toThrow(
      /K8S_TRAINER_IMAGE: is required/,
    );

    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443' } }],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'ml' } }],
        'current-context': 'ctx',
      }),
    );
    const previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = kubeconfig; // read by @kubernetes/client-node's loadFromDefault
    try {
      const env = loadEnv({
        DAPPLE_DATA_DIR: dir,
        DAPPLE_EXECUTOR: 'kubernetes',
        K8S_CONFIG: 'default',
        K8S_TRAINER_IMAGE: 'dapple/trainer:1',
        K8S_MAX_CONCURRENT_RUNS: '3',
      });
      const executor = kubernetesExecutorFromEnv(env);
      expect(executor.kind).toBe('kubernetes');
      expect(await executor.slots()).toHaveLength(3);
      const config = await hubConfigFromEnv(env, { databaseUrl: 'postgres://x@127.0.0.1/x' });
      expect(config.runs?.executor && config.runs.executor.kind).toBe('kubernetes');
    } finally {
      if (previous === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = previous;
    }
  });
});
