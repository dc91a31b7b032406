export type { Executor, ExecutorRunState, ExecutorSlot, LaunchedRun, LaunchSpec } from './types.ts';
export { LocalExecutor, detectGpuSlots, attemptLogFiles, TRAINER_MAIN, type LocalExecutorOptions } from './local.ts';
