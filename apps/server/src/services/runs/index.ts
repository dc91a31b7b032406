import { ModelAccessService } from '../models/access.ts';
import { poolOf } from './state.ts';
import type { ObjectStore } from '@dapple/storage';
import { RunLogStore } from './logs.ts';
import { RunSignals } from './signals.ts';
import { TrainerRunService } from './trainer.ts';
import { RunService } from './runs.ts';
import type { TeamService } from '../teams/teams.ts';
import type { ServiceDeps } from '../types.ts';

/** The runs domain's services, wired together (createServices spreads them in). The Scheduler is created by the hub. */
export function createRunServices(deps: ServiceDeps & { store: ObjectStore }, teams: TeamService) {
  const runSignals = new RunSignals(poolOf(deps.db));
  const runLogs = new RunLogStore(deps);
  return {
    runSignals,
    runLogs,
    // Stateless: the runs domain's own instance checks who may fine-tune from a model version.
    runs: new RunService(deps, teams, deps.store, runSignals, runLogs, new ModelAccessService(deps)),
    trainerRuns: new TrainerRunService(deps, deps.store, runSignals),
  };
}
