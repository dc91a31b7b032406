import type { V1Job, V1Secret } from '@kubernetes/client-node';
import { TRAINER_ENV } from '@dapple/contracts/trainer-protocol';
import type { LaunchSpec } from './types.ts';

/** Everything about the Job that is deployment policy rather than per-run data. */
export interface KubernetesJobOptions {
  namespace: string;
  /** Trainer image; a LaunchSpec.image overrides it. */
  image: string;
  /** `nvidia.com/gpu` limit per trainer (0: a CPU trainer, no GPU resource at all). */
  gpusPerRun: number;
  /** Extra requests/limits, e.g. { requests: { cpu: '4', memory: '16Gi' }, limits: { memory: '32Gi' } }. */
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  /** Seconds between SIGTERM and SIGKILL; the trainer checkpoints in this window. */
  terminationGracePeriodSeconds: number;
  /** Finished Jobs (and their Secret) are garbage-collected after this long. */
  ttlSecondsAfterFinished: number;
  /** Hard wall-clock limit for one attempt. */
  activeDeadlineSeconds?: number;
  /** Container command/args; default: the image's entrypoint with `--run-id=<id>`. */
  command?: string[];
  args?: string[];
  /** Extra environment (never hub secrets). */
  env?: Record<string, string>;
  serviceAccountName?: string;
  imagePullSecrets?: string[];
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
  priorityClassName?: string;
  /** Extra labels on the Job and its pod. */
  labels?: Record<string, string>;
}

export const LABELS = {
  app: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  runId: 'dapple.dev/run-id',
  attempt: 'dapple.dev/attempt',
} as const;

/** Key of the run token inside the per-run Secret. */
export const TOKEN_KEY = 'run-token';

/** `dapple-run-<uuid>-<attempt>`: unique per attempt, a valid DNS-1123 label (≤ 63 chars). */
export function jobName(runId: string, attempt: number): string {
  const name = `dapple-run-${runId.toLowerCase()}-${attempt}`;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) {
    throw new Error(`Job name "${name}" is not a DNS-1123 label of at most 63 characters (runId must be a UUID)`);
  }
  return name;
}

/**
 * The Job for one run attempt and the Secret holding its run token. Pure: the executor creates the Job
 * suspended, then the Secret owned by the Job (so deleting the Job deletes the token), then resumes it.
 */
export function buildRunManifests(spec: LaunchSpec, opts: KubernetesJobOptions): { job: V1Job; secret: V1Secret } {
  const name = jobName(spec.runId, spec.attempt);
  const labels = {
    ...opts.labels,
    [LABELS.app]: 'dapple-trainer',
    [LABELS.component]: 'trainer',
    [LABELS.managedBy]: 'dapple-hub',
    [LABELS.runId]: spec.runId,
    [LABELS.attempt]: String(spec.attempt),
  };
  const annotations = { [LABELS.runId]: spec.runId, [LABELS.attempt]: String(spec.attempt) };
  const limits: Record<string, string> = { ...opts.resources?.limits };
  if (opts.gpusPerRun > 0) limits['nvidia.com/gpu'] = String(opts.gpusPerRun);
  const extraEnv = Object.entries({ ...opts.env, ...spec.env }).map(([envName, value]) => ({ name: envName, value }));

  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: opts.namespace, labels, annotations },
    spec: {
      // A failed attempt is the hub's to retry (resume from checkpoint), not the Job controller's.
      backoffLimit: 0,
      suspend: true,
      ttlSecondsAfterFinished: opts.ttlSecondsAfterFinished,
      ...(opts.activeDeadlineSeconds !== undefined && { activeDeadlineSeconds: opts.activeDeadlineSeconds }),
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: opts.terminationGracePeriodSeconds,
          ...(opts.serviceAccountName && { serviceAccountName: opts.serviceAccountName }),
          automountServiceAccountToken: opts.serviceAccountName !== undefined,
          ...(opts.imagePullSecrets?.length && { imagePullSecrets: opts.imagePullSecrets.map((s) => ({ name: s })) }),
          ...(opts.nodeSelector && { nodeSelector: opts.nodeSelector }),
          ...(opts.tolerations && { tolerations: opts.tolerations }),
          ...(opts.priorityClassName && { priorityClassName: opts.priorityClassName }),
          containers: [
            {
              name: 'trainer',
              image: spec.image ?? opts.image,
              ...(opts.imagePullPolicy && { imagePullPolicy: opts.imagePullPolicy }),
              ...(opts.command && { command: opts.command }),
              args: opts.args ?? [`--run-id=${spec.runId}`],
              env: [
                // The trainer image runs WebGPU on the GPU's Vulkan driver: `graphics` makes the NVIDIA
                // Container Toolkit mount it (the default, compute+utility, mounts CUDA only).
                ...(opts.gpusPerRun > 0
                  ? [{ name: 'NVIDIA_DRIVER_CAPABILITIES', value: 'compute,utility,graphics' }]
                  : []),
                ...extraEnv,
                { name: TRAINER_ENV.hubUrl, value: spec.hubUrl },
                { name: TRAINER_ENV.runId, value: spec.runId },
                { name: 'DAPPLE_RUN_ATTEMPT', value: String(spec.attempt) },
                { name: TRAINER_ENV.runToken, valueFrom: { secretKeyRef: { name, key: TOKEN_KEY } } },
              ],
              resources: {
                ...(opts.resources?.requests && { requests: { ...opts.resources.requests } }),
                ...(Object.keys(limits).length > 0 && { limits }),
              },
            },
          ],
        },
      },
    },
  };
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: opts.namespace, labels, annotations },
    type: 'Opaque',
    stringData: { [TOKEN_KEY]: spec.runToken },
  };
  return { job, secret };
}
