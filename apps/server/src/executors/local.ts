import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRAINER_ENV } from '@dapple/contracts/trainer-protocol';
import { cpuSlotEnv, withCpuSlots } from './cpu-slots.ts';
import { detectGpus } from './gpu-slots.ts';
import { trainerBundler, type TrainerBundleSources } from './trainer-bundle.ts';
import type { Executor, ExecutorRunState, ExecutorSlot, LaunchedRun, LaunchSpec } from './types.ts';

/** Repository root (apps/server/src/executors → ../../../..). */
const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
export const TRAINER_MAIN = join(REPO_ROOT, 'apps/trainer/src/main.ts');

/** What the trainer bundle is built from and where it goes (trainer-bundle.ts). */
export const TRAINER_BUNDLE_SOURCES: TrainerBundleSources = {
  main: TRAINER_MAIN,
  replicaWorker: join(REPO_ROOT, 'packages/models/src/parallel/worker.ts'),
  outDir: join(REPO_ROOT, 'apps/trainer/dist'),
  root: REPO_ROOT,
};

/** The trainer bundled for `node`: built on the first launch, rebuilt after its sources change. */
const trainerBundle = trainerBundler(TRAINER_BUNDLE_SOURCES);

/**
 * `node <bundle>`; from source through tsx (as before the bundle) if the bundle cannot be built, so a build
 * problem costs start-up time, not the run: the trainer then reports what is wrong with its code itself.
 */
async function defaultTrainerCommand(): Promise<string[]> {
  try {
    // Source maps on: a failed run's stack trace (in its logs) names our source files and lines (~0.25 CPU-s).
    return [process.execPath, '--enable-source-maps', (await trainerBundle()).main];
  } catch (err) {
    process.emitWarning(`the trainer bundle could not be built, starting it from source: ${(err as Error).message}`);
    return [process.execPath, '--import', 'tsx', TRAINER_MAIN];
  }
}

export interface LocalExecutorOptions {
  /** Where each attempt's stdout/stderr files go (`<runId>-<attempt>.out|.err`); the hub tails them into run_logs. */
  logDir: string;
  /** Fixed slots; default: one per GPU (nvidia-smi, WebGPU adapters: gpu-slots.ts), or `cpuSlots` CPU slots without GPUs. */
  slots?: ExecutorSlot[];
  /** Without GPUs: how many CPU runs at once, the usable cores split between them (default 1). cpu-slots.ts. */
  cpuSlots?: number;
  /** Command that starts a trainer; the run id is appended as `--run-id=<id>` so /proc cmdline identifies it. */
  command?: string[];
  cwd?: string;
  /** Extra environment for every trainer (e.g. DAPPLE_TF_BACKEND). Never the database URL. */
  env?: Record<string, string>;
}

/** Output files of an attempt, relative to logDir. */
export function attemptLogFiles(logDir: string, runId: string, attempt: number) {
  return { stdout: join(logDir, `${runId}-${attempt}.out`), stderr: join(logDir, `${runId}-${attempt}.err`) };
}

/**
 * Trainers as child processes on this machine, one per slot. Each child is detached in its own process
 * group with its output going to files (not pipes), so it survives a hub restart and a new hub can
 * re-adopt it: `state(pid, runId)` checks /proc/<pid>/cmdline for the run id.
 */
export class LocalExecutor implements Executor {
  readonly kind = 'local' as const;
  private readonly children = new Map<string, ChildProcess>();
  private readonly exitListeners = new Set<(handle: string, state: ExecutorRunState) => void>();
  private readonly exited = new Map<string, ExecutorRunState>();
  private detected: Promise<ExecutorSlot[]> | undefined;

  constructor(private readonly opts: LocalExecutorOptions) {}

  slots(): Promise<ExecutorSlot[]> {
    if (this.opts.slots) return Promise.resolve(this.opts.slots);
    return (this.detected ??= detectGpuSlots().then((slots) => withCpuSlots(slots, this.opts.cpuSlots)));
  }

  async start(spec: LaunchSpec): Promise<LaunchedRun> {
    const [cmd, ...args] = this.opts.command ?? (await defaultTrainerCommand());
    mkdirSync(this.opts.logDir, { recursive: true });
    const files = attemptLogFiles(this.opts.logDir, spec.runId, spec.attempt);
    const out = openSync(files.stdout, 'a');
    const err = openSync(files.stderr, 'a');
    let child: ChildProcess;
    try {
      child = spawn(cmd!, [...args, `--run-id=${spec.runId}`], {
        cwd: this.opts.cwd ?? REPO_ROOT,
        detached: true,
        stdio: ['ignore', out, err],
        env: {
          // Only what the trainer needs: the hub's own secrets (DATABASE_URL, DAPPLE_SECRET, S3 keys) never pass.
          // Passed through to the child, not configuration of the hub: env.ts has no business with them.
          // eslint-disable-next-line no-restricted-syntax
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          // eslint-disable-next-line no-restricted-syntax
          HOME: process.env.HOME ?? '/tmp',
          ...this.opts.env,
          ...spec.env,
          ...spec.slot.env,
          ...cpuSlotEnv(spec.slot),
          CUDA_VISIBLE_DEVICES: spec.slot.gpu === null ? '' : String(spec.slot.gpu),
          [TRAINER_ENV.hubUrl]: spec.hubUrl,
          [TRAINER_ENV.runId]: spec.runId,
          [TRAINER_ENV.runToken]: spec.runToken,
        },
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    await new Promise<void>((resolvePromise, reject) => {
      child.once('spawn', resolvePromise);
      child.once('error', reject);
    });
    const handle = String(child.pid);
    this.children.set(handle, child);
    child.once('exit', (code, signal) => {
      this.children.delete(handle);
      const state: ExecutorRunState = { state: 'exited', exitCode: code, signal };
      this.exited.set(handle, state);
      for (const listener of this.exitListeners) listener(handle, state);
    });
    child.unref();
    return { executor: 'local', handle };
  }

  async stop(handle: string, graceMs: number): Promise<void> {
    const pid = Number(handle);
    if (!Number.isInteger(pid) || pid <= 1) return;
    signalGroup(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      if (!(await isAlive(pid))) return;
      await sleep(100);
    }
    if (await isAlive(pid)) signalGroup(pid, 'SIGKILL');
    for (let i = 0; i < 50 && (await isAlive(pid)); i++) await sleep(100);
  }

  async state(handle: string, runId?: string): Promise<ExecutorRunState> {
    const known = this.exited.get(handle);
    if (known) return known;
    const pid = Number(handle);
    if (!Number.isInteger(pid) || pid <= 1) return { state: 'unknown' };
    if (this.children.has(handle)) return { state: 'running' };
    if (!(await isAlive(pid))) return { state: 'exited', exitCode: null, signal: null };
    if (runId !== undefined) {
      // A recycled pid belongs to another process: treat the trainer as gone.
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (!cmdline.split('\0').includes(`--run-id=${runId}`)) return { state: 'exited', exitCode: null, signal: null };
    }
    return { state: 'running' };
  }

  onExit(listener: (handle: string, state: ExecutorRunState) => void): () => void {
    this.exitListeners.add(listener);
    return () => this.exitListeners.delete(listener);
  }

  async close(): Promise<void> {
    // Trainers keep running: a new hub re-adopts them.
    this.exitListeners.clear();
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Alive and not a zombie. */
async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return process.platform !== 'linux';
  // Field 3 (after the parenthesised command name) is the state; Z = zombie, X = dead.
  const stateChar = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return stateChar !== 'Z' && stateChar !== 'X';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One slot per GPU (nvidia-smi and WebGPU adapters, gpu-slots.ts); one CPU slot when there is no GPU. */
export async function detectGpuSlots(): Promise<ExecutorSlot[]> {
  const gpus = await detectGpus();
  return gpus.length > 0 ? gpus : [{ id: 'cpu', gpu: null }];
}
