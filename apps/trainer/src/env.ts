import { z } from 'zod';
import { BACKEND_NAMES, type BackendName } from '@dapple/models/config';
import { TRAINER_ENV } from '@dapple/contracts/trainer-protocol';

/** What picks the TF.js backend: also all that `--check-gpu` reads. */
const backendSchema = z.object({
  /**
   * Force a TF.js backend (falls back down the chain if it fails). `webgpu` also accepts a software adapter
   * (Mesa's lavapipe), which the automatic chain passes by because wasm is faster.
   */
  DAPPLE_TF_BACKEND: z.enum(BACKEND_NAMES as [BackendName, ...BackendName[]]).optional(),
  /** webgpu: use the adapter whose name contains this (set per GPU slot by the local executor). */
  DAPPLE_WEBGPU_ADAPTER: z.string().min(1).max(200).optional(),
});

/** A whole number ≥ 1 given as a string; empty = unset. */
const countVar = (max: number) =>
  z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(
      z
        .string()
        .regex(/^\d+$/, 'must be a whole number')
        .transform(Number)
        .pipe(z.number().int().min(1, 'must be at least 1').max(max, `must be at most ${max}`))
        .optional(),
    )
    .optional();

const envSchema = z.object({
  [TRAINER_ENV.hubUrl]: z.url({ protocol: /^https?$/ }),
  [TRAINER_ENV.runId]: z.uuid(),
  [TRAINER_ENV.runToken]: z.string().min(20),
  ...backendSchema.shape,
  /** Set by the executor per slot; empty = CPU slot. Used to read GPU utilisation for that device. */
  CUDA_VISIBLE_DEVICES: z.string().optional(),
  /**
   * Data-parallel CPU worker threads (wasm/cpu backends), this thread included; never more than the batch.
   * Set by the local executor from its CPU slot; unset: every CPU this process may use (affinity, cgroup quota).
   */
  DAPPLE_CPU_WORKERS: countVar(1024),
  /** Debug: compare a hash of every CPU worker's weights every N steps (always before a checkpoint). */
  DAPPLE_CPU_VERIFY_EVERY: countVar(1_000_000),
});

/** Every variable the trainer reads (docs/configuration.md lists each; checks/env-docs.test.ts compares). */
export const TRAINER_ENV_VARS = Object.keys(envSchema.shape);

export interface TrainerEnv {
  hubUrl: string;
  runId: string;
  runToken: string;
  backend?: BackendName;
  /** Dawn's adapter-name filter for the webgpu backend. */
  webgpuAdapter?: string;
  gpu: string | null;
  /** DAPPLE_CPU_WORKERS; unset: usable CPUs. */
  cpuWorkers?: number;
  /** DAPPLE_CPU_VERIFY_EVERY. */
  cpuVerifyEvery?: number;
}

/** The only place the trainer reads process.env. It never gets (or wants) a database URL. */
export function loadTrainerEnv(source: Record<string, string | undefined> = process.env): TrainerEnv {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    throw new Error(
      `Invalid trainer environment:\n${result.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  }
  const e = result.data;
  return {
    hubUrl: e[TRAINER_ENV.hubUrl],
    runId: e[TRAINER_ENV.runId],
    runToken: e[TRAINER_ENV.runToken],
    ...(e.DAPPLE_TF_BACKEND ? { backend: e.DAPPLE_TF_BACKEND } : {}),
    ...(e.DAPPLE_WEBGPU_ADAPTER ? { webgpuAdapter: e.DAPPLE_WEBGPU_ADAPTER } : {}),
    gpu: e.CUDA_VISIBLE_DEVICES ? e.CUDA_VISIBLE_DEVICES : null,
    ...(e.DAPPLE_CPU_WORKERS !== undefined ? { cpuWorkers: e.DAPPLE_CPU_WORKERS } : {}),
    ...(e.DAPPLE_CPU_VERIFY_EVERY !== undefined ? { cpuVerifyEvery: e.DAPPLE_CPU_VERIFY_EVERY } : {}),
  };
}

/** The backend choice alone (`--check-gpu` runs without a hub). */
export function loadBackendEnv(
  source: Record<string, string | undefined> = process.env,
): Pick<TrainerEnv, 'backend' | 'webgpuAdapter'> {
  const result = backendSchema.safeParse(source);
  if (!result.success) {
    throw new Error(
      `Invalid trainer environment:\n${result.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  }
  const e = result.data;
  return {
    ...(e.DAPPLE_TF_BACKEND ? { backend: e.DAPPLE_TF_BACKEND } : {}),
    ...(e.DAPPLE_WEBGPU_ADAPTER ? { webgpuAdapter: e.DAPPLE_WEBGPU_ADAPTER } : {}),
  };
}
