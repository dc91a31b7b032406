import { startTestHub, type TestHub } from './support/hub.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubernetesExecutor } from '../src/executors/kubernetes.ts';
import { jobName } from '../src/executors/kubernetes-manifest.ts';
import { FakeKubernetes, fakeKubeConfig } from './fake-kubernetes.ts';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { ok, readyDatasetVersion, RUN, START_RUN, tinyConfig } from './runs-fixtures.ts';

/**
 * A hub whose scheduler runs trainers as Kubernetes Jobs, against a fake API server (there is no cluster here):
 * the pod log reaches the run page while the trainer runs, not only once it has ended, and each line once.
 */
const fake = new FakeKubernetes();
let hub: TestHub;
let ann: SignedInUser;
let datasetVersionId: string;

beforeAll(async () => {
  const kubeConfig = fakeKubeConfig(await fake.listen());
  const executor = new KubernetesExecutor({
    namespace: 'dapple',
    image: 'trainer:test',
    gpusPerRun: 0,
    terminationGracePeriodSeconds: 30,
    ttlSecondsAfterFinished: 600,
    kubeConfig,
    maxConcurrentRuns: 1,
    pollIntervalMs: 5,
  });
  hub = await startTestHub({ runs: { executor, pollMs: 100 } });
  ann = await signUpUser(hub, 'Ann');
  const teamId = await createTeam(ann, 'Lab', 'k8s-logs');
  ({ versionId: datasetVersionId } = await readyDatasetVersion(hub, teamId, { resolution: 8, channels: 1, n: 8 }));
});
afterAll(async () => {
  await hub?.close();
  await new Promise<void>((r) => fake.server.close(() => r()));
});

type RunView = { status: string; error: string | null; logs: { attempt: number; line: string }[] };
const view = async (id: string) => ok(await ann.client.request<{ run: RunView }>(RUN, { id })).run;
const lines = async (id: string) => (await view(id)).logs.map((l) => l.line);

describe('trainer logs of a Kubernetes Job', () => {
  it('follow the pod log while the trainer runs, and keep its last lines when it fails', async () => {
    const id = ok(
      await ann.client.request<{ startRun: { id: string } }>(START_RUN, {
        input: { datasetVersionId, name: 'on-k8s', config: tinyConfig() },
      }),
    ).startRun.id;
    const job = jobName(id, 1);
    await expect.poll(() => fake.jobs.get(job)?.spec?.suspend, { timeout: 30_000 }).toBe(false);
    fake.logs = 'dapple trainer starting\nTF.js backend: tensorflow\n';
    fake.addPod(job, `${job}-abcde`);

    // Live: the lines arrive while the Job runs, then each new line once.
    await expect
      .poll(() => lines(id), { timeout: 30_000 })
      .toEqual(['dapple trainer starting', 'TF.js backend: tensorflow']);
    fake.logs += 'model: preset tiny\n';
    await expect
      .poll(() => lines(id), { timeout: 30_000 })
      .toEqual(['dapple trainer starting', 'TF.js backend: tensorflow', 'model: preset tiny']);
    expect((await view(id)).status).not.toMatch(/FAILED|SUCCEEDED|CANCELLED/);

    // The trainer dies: the line it wrote last is read after the exit and shown with the failure.
    fake.logs += 'RangeError: out of memory\n';
    fake.jobs.get(job).status = { failed: 1 };
    fake.addPod(job, `${job}-abcde`, { exitCode: 1, reason: 'Error' });
    await expect.poll(async () => (await view(id)).status, { timeout: 30_000 }).toBe('FAILED');
    const failed = await view(id);
    expect(failed.logs.map((l) => l.line)).toEqual([
      'dapple trainer starting',
      'TF.js backend: tensorflow',
      'model: preset tiny',
      'RangeError: out of memory',
    ]);
    expect(failed.logs.every((l) => l.attempt === 1)).toBe(true);
    expect(failed.error).toContain(
      'last log lines:\ndapple trainer starting\nTF.js backend: tensorflow\nmodel: preset tiny\nRangeError: out of memory',
    );
  });
});
