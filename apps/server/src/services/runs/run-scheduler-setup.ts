import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LocalExecutor } from '../../executors/local.ts';
import type { Executor, ExecutorSlot } from '../../executors/types.ts';
import { ExecutorLogFollower } from './executor-log-follower.ts';
import type { RunLifecycle } from './lifecycle.ts';
import { LogTailer } from './local-log-tailer.ts';
import type { RunLogStore } from './logs.ts';
import { RunScheduler, type RunSchedulerOptions } from './run-scheduler.ts';
import type { RunService } from './runs.ts';
import type { RunSignals } from './signals.ts';

export interface RunsConfig extends Omit<RunSchedulerOptions, 'hubUrl'> {
  /** `false`: this hub starts no trainers (API-only replica). Default: a LocalExecutor. */
  executor?: Executor | false;
  /** LocalExecutor: where trainer stdout/stderr files go (default `<tmpdir>/dapple-run-logs`). */
  logDir?: string;
  /** LocalExecutor: fixed slots (default: nvidia-smi, else one CPU slot). */
  slots?: ExecutorSlot[];
}

/** What the run scheduler needs of the hub's services (createRunServices makes them). */
export interface RunSchedulerServices {
  runs: Pick<RunService, 'db'>;
  runLifecycle: Pick<RunLifecycle, 'setKick'>;
  runSignals: RunSignals;
  runLogs: RunLogStore;
}

/** The hub's RunScheduler (null when this hub runs no trainers), started: it re-adopts surviving trainers first. */
export async function createRunScheduler(
  services: RunSchedulerServices,
  config: RunsConfig = {},
  ctx: { hubUrl: string; logger: Logger; now?: () => Date },
): Promise<RunScheduler | null> {
  if (config.executor === false) return null;
  const logDir = config.logDir ?? join(tmpdir(), 'dapple-run-logs');
  const executor = config.executor ?? new LocalExecutor({ logDir, ...(config.slots ? { slots: config.slots } : {}) });
  const follower =
    executor.kind === 'local'
      ? new LogTailer(logDir, services.runLogs, ctx.logger)
      : executor.logs
        ? new ExecutorLogFollower({ logs: executor.logs.bind(executor) }, services.runLogs, ctx.logger)
        : null;
  const { executor: _e, logDir: _l, slots: _s, ...opts } = config;
  const scheduler = new RunScheduler(
    {
      db: services.runs.db,
      now: ctx.now ?? (() => new Date()),
      executor,
      signals: services.runSignals,
      logs: services.runLogs,
      follower,
      log: ctx.logger.child({ component: 'scheduler' }),
    },
    { ...opts, hubUrl: ctx.hubUrl },
  );
  services.runLifecycle.setKick(() => scheduler.kick());
  await scheduler.start();
  return scheduler;
}
