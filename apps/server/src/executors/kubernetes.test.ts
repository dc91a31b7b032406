import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubernetesExecutor, loadKubeConfig, type KubernetesExecutorOptions } from './kubernetes.ts';
import { buildRunManifests, jobName, type KubernetesJobOptions } from './kubernetes-manifest.ts';
import type { LaunchSpec } from './types.ts';
import { FakeKubernetes, fakeKubeConfig } from '../../test/fake-kubernetes.ts';

const RUN_ID = '0b6f4a3e-7d1c-4e55-9a2b-1f0c3d5e7a90';
const spec: LaunchSpec = {
  runId: RUN_ID,
  attempt: 2,
  hubUrl: 'http://dapple-hub.dapple.svc:4000',
  runToken: 'dpr_secret-token',
  slot: { id: 'k8s-0', gpu: null },
  env: { DAPPLE_TF_BACKEND: 'webgpu' },
};
const jobOptions: KubernetesJobOptions = {
  namespace: 'dapple',
  image: 'ghcr.io/example/dapple-trainer:1.0',
  gpusPerRun: 1,
  resources: { requests: { cpu: '4', memory: '16Gi' }, limits: { memory: '32Gi' } },
  terminationGracePeriodSeconds: 90,
  ttlSecondsAfterFinished: 3600,
  activeDeadlineSeconds: 86_400,
};

describe('buildRunManifests', () => {
  it('builds a suspended one-shot GPU Job and a Secret holding the run token', () => {
    const { job, secret } = buildRunManifests(spec, jobOptions);
    expect({ job, secret }).toMatchSnapshot();
    const name = `dapple-run-${RUN_ID}-2`;
    expect(job.metadata).toMatchObject({ name, namespace: 'dapple' });
    expect(job.metadata!.labels).toMatchObject({ 'dapple.dev/run-id': RUN_ID, 'dapple.dev/attempt': '2' });
    expect(job.metadata!.annotations).toEqual({ 'dapple.dev/run-id': RUN_ID, 'dapple.dev/attempt': '2' });
    expect(job.spec).toMatchObject({
      backoffLimit: 0,
      suspend: true,
      ttlSecondsAfterFinished: 3600,
      activeDeadlineSeconds: 86_400,
    });
    const pod = job.spec!.template.spec!;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.terminationGracePeriodSeconds).toBe(90);
    const container = pod.containers[0]!;
    expect(container.image).toBe(jobOptions.image);
    expect(container.args).toEqual([`--run-id=${RUN_ID}`]);
    expect(container.resources).toEqual({
      requests: { cpu: '4', memory: '16Gi' },
      limits: { memory: '32Gi', 'nvidia.com/gpu': '1' },
    });
    expect(container.env).toContainEqual({ name: 'DAPPLE_HUB_URL', value: spec.hubUrl });
    expect(container.env).toContainEqual({ name: 'DAPPLE_RUN_ID', value: RUN_ID });
    expect(container.env).toContainEqual({ name: 'DAPPLE_TF_BACKEND', value: 'webgpu' });
    expect(container.env).toContainEqual({ name: 'NVIDIA_DRIVER_CAPABILITIES', value: 'compute,utility,graphics' });
    expect(container.env).toContainEqual({
      name: 'DAPPLE_RUN_TOKEN',
      valueFrom: { secretKeyRef: { name, key: 'run-token' } },
    });
    // The token is never in the Job itself.
    expect(JSON.stringify(job)).not.toContain(spec.runToken);
    expect(secret).toMatchObject({
      metadata: { name, namespace: 'dapple' },
      type: 'Opaque',
      stringData: { 'run-token': spec.runToken },
    });
  });

  it('leaves out the GPU resource for CPU trainers, honours image and optional fields', () => {
    const { job } = buildRunManifests(
      { ...spec, image: 'trainer:cpu' },
      {
        ...jobOptions,
        gpusPerRun: 0,
        resources: undefined,
        activeDeadlineSeconds: undefined,
        serviceAccountName: 'trainer',
        imagePullSecrets: ['regcred'],
        nodeSelector: { pool: 'gpu' },
      },
    );
    const pod = job.spec!.template.spec!;
    expect(pod.containers[0]!.resources).toEqual({});
    expect(pod.containers[0]!.env!.map((e) => e.name)).not.toContain('NVIDIA_DRIVER_CAPABILITIES');
    expect(pod.containers[0]!.image).toBe('trainer:cpu');
    expect(job.spec!.activeDeadlineSeconds).toBeUndefined();
    expect(pod).toMatchObject({
      serviceAccountName: 'trainer',
      imagePullSecrets: [{ name: 'regcred' }],
      nodeSelector: { pool: 'gpu' },
      automountServiceAccountToken: true,
    });
  });

  it('refuses a run id that would not make a DNS-1123 Job name', () => {
    expect(() => jobName('Not A UUID!', 1)).toThrow(/not a DNS-1123 label/);
    expect(jobName(RUN_ID.toUpperCase(), 12)).toBe(`dapple-run-${RUN_ID}-12`);
  });
});

const fake = new FakeKubernetes();
let executor: KubernetesExecutor;

beforeAll(async () => {
  const kubeConfig = fakeKubeConfig(await fake.listen());
  const opts: KubernetesExecutorOptions = { ...jobOptions, kubeConfig, maxConcurrentRuns: 3, pollIntervalMs: 5 };
  executor = new KubernetesExecutor(opts);
});
afterAll(() => new Promise<void>((r) => fake.server.close(() => r())));
beforeEach(() => fake.reset());

const name = `dapple-run-${RUN_ID}-2`;

describe('KubernetesExecutor against a fake API server', () => {
  it('offers maxConcurrentRuns virtual slots', async () => {
    expect(await executor.slots()).toEqual([
      { id: 'k8s-0', gpu: null },
      { id: 'k8s-1', gpu: null },
      { id: 'k8s-2', gpu: null },
    ]);
  });

  it('creates the Job suspended, then the Secret owned by it, then resumes the Job', async () => {
    expect(await executor.start(spec)).toEqual({ executor: 'kubernetes', handle: name });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /apis/batch/v1/namespaces/dapple/jobs',
      'POST /api/v1/namespaces/dapple/secrets',
      `PATCH /apis/batch/v1/namespaces/dapple/jobs/${name}`,
    ]);
    expect(fake.requests.every((r) => r.authorization === 'Bearer cluster-token')).toBe(true);
    const [createJob, createSecret, patch] = fake.requests;
    expect(createJob!.body.spec.suspend).toBe(true);
    expect(createSecret!.body.metadata.ownerReferences).toEqual([
      { apiVersion: 'batch/v1', kind: 'Job', name, uid: fake.jobs.get(name).metadata.uid, blockOwnerDeletion: true },
    ]);
    expect(createSecret!.body.stringData).toEqual({ 'run-token': spec.runToken });
    expect(patch!.body).toEqual({ spec: { suspend: false } });
    expect(fake.jobs.get(name).spec.suspend).toBe(false);
  });

  it('deletes the Job again when the Secret cannot be created, and reports the error', async () => {
    fake.failNext = { method: 'POST', pathPart: '/secrets', status: 403 };
    await expect(executor.start(spec)).rejects.toThrow();
    expect(fake.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'DELETE']);
    expect(fake.requests[2]!.query).toMatchObject({ gracePeriodSeconds: '0', propagationPolicy: 'Foreground' });
  });

  it('reads Job status as running / exited 0 / exited with the container exit code and reason', async () => {
    await executor.start(spec);
    expect(await executor.state(name, RUN_ID)).toEqual({ state: 'running' });
    fake.jobs.get(name).status = { active: 1 };
    expect(await executor.state(name)).toEqual({ state: 'running' });
    fake.jobs.get(name).status = { succeeded: 1 };
    expect(await executor.state(name)).toEqual({ state: 'exited', exitCode: 0, signal: null });
    fake.jobs.get(name).status = {
      failed: 1,
      conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }],
    };
    fake.addPod(name, `${name}-abcde`, { exitCode: 137, reason: 'OOMKilled' });
    expect(await executor.state(name)).toEqual({ state: 'exited', exitCode: 137, signal: 'OOMKilled' });
    fake.pods.clear();
    fake.jobs.get(name).status = { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] };
    expect(await executor.state(name)).toEqual({ state: 'exited', exitCode: null, signal: 'DeadlineExceeded' });
    // Another run's handle, or a Job that no longer exists, is unknown to the executor.
    expect(await executor.state(name, '11111111-2222-4333-8444-555555555555')).toEqual({ state: 'unknown' });
    expect(await executor.state('dapple-run-gone-1')).toEqual({ state: 'unknown' });
  });

  it('stops by deleting the Job with the grace period (Foreground) and waits until it is gone', async () => {
    await executor.start(spec);
    fake.requests.length = 0;
    await executor.stop(name, 30_500);
    const del = fake.requests.find((r) => r.method === 'DELETE')!;
    expect(del.path).toBe(`/apis/batch/v1/namespaces/dapple/jobs/${name}`);
    expect(del.query).toMatchObject({ gracePeriodSeconds: '31', propagationPolicy: 'Foreground' });
    expect(fake.jobs.has(name)).toBe(false);
    expect(fake.secrets.size).toBe(0);
    expect(fake.requests.filter((r) => r.method === 'GET').length).toBe(fake.deleteAfterReads + 1);
    // Stopping a Job that is already gone is a no-op.
    fake.requests.length = 0;
    await executor.stop(name, 1000);
    expect(fake.requests.map((r) => r.method)).toEqual(['DELETE']);
  });

  it("returns the newest pod's log from the start, bounded in bytes", async () => {
    expect(await executor.logs(name)).toEqual([]);
    fake.addPod(name, `${name}-xyz12`);
    expect(await executor.logs(name)).toEqual(['line one', 'line two']);
    const logReq = fake.requests.find((r) => r.path.endsWith('/log'))!;
    expect(logReq.path).toBe(`/api/v1/namespaces/dapple/pods/${name}-xyz12/log`);
    expect(logReq.query).toEqual({ container: 'trainer', limitBytes: String(4 * 1024 * 1024) });
  });
});

describe('loadKubeConfig', () => {
  it('reads a kubeconfig file and says when none names a cluster', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dapple-kube-'));
    try {
      const file = join(dir, 'config');
      await writeFile(
        file,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'lab', cluster: { server: 'https://10.0.0.1:6443' } }],
          users: [{ name: 'hub', user: { token: 't' } }],
          contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'hub', namespace: 'dapple' } }],
          'current-context': 'lab',
        }),
      );
      expect(loadKubeConfig({ file }).getCurrentCluster()?.server).toBe('https://10.0.0.1:6443');
      const empty = join(dir, 'empty');
      await writeFile(
        empty,
        JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] }),
      );
      expect(() => loadKubeConfig({ file: empty })).toThrow(/no Kubernetes cluster configured/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
