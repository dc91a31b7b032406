// Data-parallel CPU training (Node only: worker_threads). Not part of the package's root (browser-safe) surface.
export {
  createCpuTrainer,
  DataParallelTrainer,
  splitEvenly,
  type DataParallelOptions,
  type DataParallelTrainerConfig,
  type ParallelStepStats,
} from './data-parallel-trainer.ts';
export { ReplicaError } from './replica-handle.ts';
export { REPLICA_WORKER_BUNDLE_FILE } from './spawn.ts';
export { usableCpus, type CpuLimits } from './cpus.ts';
export { weightsHash } from './weights-hash.ts';
