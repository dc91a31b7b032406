// The runs domain: starting, cancelling, resuming and forking training runs; reading them (events, metrics,
// checkpoints, sample grids, logs); what a trainer may do with its run token; the run scheduler that starts
// trainers on an executor; and the cross-hub run signals behind live subscriptions.
import type { ObjectStore } from '@dapple/storage';
import type { ModelAccessService } from '../models/index.ts';
import type { TeamService } from '../teams/index.ts';
import type { ServiceDeps } from '../types.ts';
import { RunDeletion } from './deletion.ts';
import { RunLifecycle } from './lifecycle.ts';
import { RunLogStore } from './logs.ts';
import { RunPresets } from './presets.ts';
import { RunService } from './runs.ts';
import { RunSignals } from './signals.ts';
import { TrainerRunService } from './trainer.ts';

export { RunDeletion, type PublishedFrom, type RunStorage } from './deletion.ts';
export { ARCHITECTURE_FIELDS, RunLifecycle, DEFAULT_MAX_ATTEMPTS } from './lifecycle.ts';
export { RunLogStore, MAX_LOG_LINES_PER_RUN, MAX_LOG_LINE_CHARS } from './logs.ts';
export { checkpointPrefix, runPrefix, sampleGridKey } from './objects.ts';
export { createRunScheduler, type RunSchedulerServices, type RunsConfig } from './run-scheduler-setup.ts';
export type { RunScheduler } from './run-scheduler.ts';
export { RunPresets, PRESET_DESCRIPTIONS, type RunPresetView } from './presets.ts';
export { RunService, type RunFilter, type RunPage } from './runs.ts';
export { RunSignals, RUNS_CHANNEL, runMetricsChannel, runUpdatedChannel, type RunSignal } from './signals.ts';
export { TrainerRunService, type TrainerPrincipal } from './trainer.ts';

/** The runs domain's services, wired together (createServices spreads them in). The hub starts the run scheduler. */
export function createRunServices(
  deps: ServiceDeps & { store: ObjectStore; trainerStore?: ObjectStore },
  teams: TeamService,
  modelAccess: ModelAccessService,
) {
  const runSignals = new RunSignals(deps.pool);
  const runLogs = new RunLogStore(deps);
  const runs = new RunService(deps, teams, deps.store, runLogs);
  return {
    runSignals,
    runLogs,
    runs,
    runPresets: new RunPresets(deps, teams),
    runLifecycle: new RunLifecycle(deps, runs, teams, deps.store, runSignals, modelAccess),
    // Trainers get their object URLs from trainerStore (the hub's own origin under `npm start`), so no run depends
    // on the dashboard, whose origin the browser-facing store's URLs use.
    trainerRuns: new TrainerRunService(deps, deps.trainerStore ?? deps.store, runSignals),
    runDeletion: new RunDeletion(deps, runs, teams, deps.store),
  };
}
