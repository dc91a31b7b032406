import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Job,
} from '@kubernetes/client-node';
import { buildRunManifests, LABELS, type KubernetesJobOptions } from './kubernetes-manifest.ts';
import type { Executor, ExecutorRunState, ExecutorSlot, LaunchedRun, LaunchSpec } from './types.ts';

/**
 * Where the hub finds its cluster credentials: `in-cluster` (the pod's service account), a kubeconfig
 * file, or `default` (the client library's usual lookup: $KUBECONFIG, ~/.kube/config, then in-cluster).
 */
export type KubeConfigSource = 'in-cluster' | 'default' | { file: string };

export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const kc = new KubeConfig();
  if (source === 'in-cluster') kc.loadFromCluster();
  else if (source === 'default') kc.loadFromDefault();
  else kc.loadFromFile(source.file);
  if (!kc.getCurrentCluster())
    throw new Error(`no Kubernetes cluster configured (kubeconfig source: ${JSON.stringify(source)})`);
  return kc;
}

export interface KubernetesExecutorOptions extends KubernetesJobOptions {
  /** Loaded by the caller: `kc.loadFromCluster()` inside a pod, `kc.loadFromDefault()` elsewhere. */
  kubeConfig: KubeConfig;
  /** How many runs may be in flight at once (virtual slots `k8s-0` … `k8s-<n-1>`); the cluster queues pods beyond capacity. */
  maxConcurrentRuns: number;
  /** How often stop() re-reads the Job while waiting for it to disappear (default 500 ms). */
  pollIntervalMs?: number;
}

/**
 * One Kubernetes Job per run attempt. The run token lives in a Secret owned by the Job, so it is
 * deleted with the Job (on stop, or by the TTL controller after the Job finishes).
 */
export class KubernetesExecutor implements Executor {
  readonly kind = 'kubernetes' as const;
  private readonly batch: BatchV1Api;
  private readonly core: CoreV1Api;

  constructor(private readonly opts: KubernetesExecutorOptions) {
    if (!Number.isInteger(opts.maxConcurrentRuns) || opts.maxConcurrentRuns < 1) {
      throw new Error(`maxConcurrentRuns must be a positive integer, got ${opts.maxConcurrentRuns}`);
    }
    this.batch = opts.kubeConfig.makeApiClient(BatchV1Api);
    this.core = opts.kubeConfig.makeApiClient(CoreV1Api);
  }

  async slots(): Promise<ExecutorSlot[]> {
    // GPUs are assigned by the device plugin inside the pod, not by index from here.
    return Array.from({ length: this.opts.maxConcurrentRuns }, (_, i) => ({ id: `k8s-${i}`, gpu: null }));
  }

  async start(spec: LaunchSpec): Promise<LaunchedRun> {
    const { job, secret } = buildRunManifests(spec, this.opts);
    const name = job.metadata!.name!;
    const namespace = this.opts.namespace;
    // Suspended first: no pod may start before the Secret with its token exists.
    const created = await this.batch.createNamespacedJob({ namespace, body: job });
    try {
      secret.metadata!.ownerReferences = [
        { apiVersion: 'batch/v1', kind: 'Job', name, uid: created.metadata!.uid!, blockOwnerDeletion: true },
      ];
      await this.core.createNamespacedSecret({ namespace, body: secret });
      await this.batch.patchNamespacedJob(
        { name, namespace, body: { spec: { suspend: false } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      await this.delete(name, 0).catch(() => {});
      throw err;
    }
    return { executor: 'kubernetes', handle: name };
  }

  async stop(handle: string, graceMs: number): Promise<void> {
    const gracePeriodSeconds = Math.max(0, Math.ceil(graceMs / 1000));
    if (!(await this.delete(handle, gracePeriodSeconds))) return;
    // Foreground deletion keeps the Job visible until its pod is gone (after the grace period).
    const deadline = Date.now() + graceMs + 10_000;
    while (Date.now() < deadline) {
      if ((await this.readJob(handle)) === null) return;
      await new Promise((r) => setTimeout(r, this.opts.pollIntervalMs ?? 500));
    }
  }

  async state(handle: string, runId?: string): Promise<ExecutorRunState> {
    const job = await this.readJob(handle);
    // Gone (TTL-collected or deleted) or not ours: the scheduler decides from its own records.
    if (!job) return { state: 'unknown' };
    if (runId !== undefined && job.metadata?.labels?.[LABELS.runId] !== runId) return { state: 'unknown' };
    const status = job.status ?? {};
    if ((status.succeeded ?? 0) > 0) return { state: 'exited', exitCode: 0, signal: null };
    const failed = status.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
    if ((status.failed ?? 0) > 0 || failed) {
      const terminated = await this.terminatedContainer(handle);
      return {
        state: 'exited',
        exitCode: terminated?.exitCode ?? null,
        // e.g. OOMKilled, Error, DeadlineExceeded: the closest thing to a signal Kubernetes reports.
        signal: terminated?.reason ?? failed?.reason ?? null,
      };
    }
    return { state: 'running' };
  }

  async logs(handle: string): Promise<string[]> {
    const pod = await this.newestPod(handle);
    if (!pod) return [];
    try {
      const text = await this.core.readNamespacedPodLog({
        name: pod,
        namespace: this.opts.namespace,
        container: 'trainer',
        limitBytes: MAX_LOG_BYTES,
      });
      return text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
    } catch (err) {
      if (isStatus(err, 400) || isStatus(err, 404)) return []; // container not started yet, or pod gone
      throw err;
    }
  }

  /** Deletes the Job (Foreground: pods first). False when it did not exist. */
  private async delete(name: string, gracePeriodSeconds: number): Promise<boolean> {
    try {
      await this.batch.deleteNamespacedJob({
        name,
        namespace: this.opts.namespace,
        gracePeriodSeconds,
        propagationPolicy: 'Foreground',
      });
      return true;
    } catch (err) {
      if (isStatus(err, 404)) return false;
      throw err;
    }
  }

  private async readJob(name: string): Promise<V1Job | null> {
    try {
      return await this.batch.readNamespacedJob({ name, namespace: this.opts.namespace });
    } catch (err) {
      if (isStatus(err, 404)) return null;
      throw err;
    }
  }

  private async jobPods(name: string) {
    const list = await this.core.listNamespacedPod({
      namespace: this.opts.namespace,
      labelSelector: `job-name=${name}`,
    });
    return list.items.sort((a, b) => time(b.metadata?.creationTimestamp) - time(a.metadata?.creationTimestamp));
  }

  private async newestPod(name: string): Promise<string | undefined> {
    return (await this.jobPods(name))[0]?.metadata?.name;
  }

  private async terminatedContainer(name: string) {
    for (const pod of await this.jobPods(name)) {
      const status = pod.status?.containerStatuses?.find((c) => c.name === 'trainer');
      if (status?.state?.terminated) return status.state.terminated;
    }
    return undefined;
  }
}

/** A whole trainer log is a few hundred lines (one per checkpoint, grid, restart); this bounds a runaway one. */
const MAX_LOG_BYTES = 4 * 1024 * 1024;

function time(d: Date | string | undefined): number {
  return d ? new Date(d).getTime() : 0;
}

function isStatus(err: unknown, code: number): boolean {
  return err instanceof ApiException && err.code === code;
}
