/**
 * The contract between the hub's scheduler and whatever starts trainer processes.
 *
 * An executor knows how to start, observe and stop one trainer process per run attempt;
 * it knows nothing about the database. The scheduler owns run state and decides what to do
 * when an executor reports an exit (succeeded / failed / lost / requeue).
 *
 * Implementations: `LocalExecutor` (child processes on this machine, one per GPU slot or one
 * CPU slot) and `KubernetesExecutor` (one Job per run attempt).
 */

/** A place one trainer can run. Local: a GPU index or the CPU; Kubernetes: a virtual slot. */
export interface ExecutorSlot {
  /** Stable id, e.g. `gpu0`, `cpu`, `k8s-3`. */
  id: string;
  /** CUDA_VISIBLE_DEVICES index for the child; null = CPU slot (no GPU). */
  gpu: number | null;
  /** What the slot runs on, e.g. the GPU's name (gpu-slots.ts). */
  device?: string;
  /** Extra environment for a trainer in this slot: what pins it to its GPU (gpu-slots.ts). */
  env?: Record<string, string>;
  /** CPU slot: the cores its trainer may use (DAPPLE_CPU_WORKERS); unset: every usable core. See cpu-slots.ts. */
  cpus?: number;
}

export interface LaunchSpec {
  runId: string;
  /** 1-based attempt number; the executor may use it to name the process / Job uniquely. */
  attempt: number;
  /** Base URL the trainer uses to reach the hub (e.g. `http://127.0.0.1:4000`). */
  hubUrl: string;
  /** Run-scoped bearer token (never a DB URL or user credential). */
  runToken: string;
  slot: ExecutorSlot;
  /** Extra environment for the trainer (e.g. DAPPLE_TRAINER_BACKEND); never secrets of the hub. */
  env?: Record<string, string>;
  /** Container image (Kubernetes only). */
  image?: string;
}

export interface LaunchedRun {
  executor: 'local' | 'kubernetes';
  /** Local: the child's pid as a decimal string; Kubernetes: the Job name. Stored in runs.executor_handle. */
  handle: string;
}

export type ExecutorRunState =
  { state: 'running' } | { state: 'exited'; exitCode: number | null; signal?: string | null } | { state: 'unknown' };

export interface Executor {
  readonly kind: 'local' | 'kubernetes';
  /** All slots this executor offers (free or not); the scheduler tracks occupancy. */
  slots(): Promise<ExecutorSlot[]>;
  start(spec: LaunchSpec): Promise<LaunchedRun>;
  /** SIGTERM (k8s: delete the Job with this grace period), then kill after graceMs. Resolves when gone or after the kill. */
  stop(handle: string, graceMs: number): Promise<void>;
  /**
   * Observe a process/Job by handle, also one started by an earlier hub instance (re-adoption).
   * `runId` lets the executor check the handle really belongs to that run (local: /proc cmdline / environ).
   */
  state(handle: string, runId?: string): Promise<ExecutorRunState>;
  /** Push notification of exits of processes this instance started (optional; the scheduler also polls state()). */
  onExit?(listener: (handle: string, state: ExecutorRunState) => void): () => void;
  /**
   * The process's output so far (k8s: the newest pod's log) as lines, from the start (up to a few MiB), so line i
   * is the same line on every read (ExecutorLogFollower relies on it). Local captures its output itself (LogTailer).
   */
  logs?(handle: string): Promise<string[]>;
  /** Release resources (watchers, timers). Does not stop running trainers: they survive a hub restart. */
  close?(): Promise<void>;
}
