import type { Logger } from 'pino';
import type { Executor } from '../../executors/types.ts';
import { PollingLogFollower, type Followed } from './log-follower.ts';
import type { RunLogStore } from './logs.ts';

interface FollowedLog extends Followed {
  handle: string;
  /** Lines of the log already stored: line i of every read is the same line (the executor reads from the start). */
  stored: number;
}

/**
 * Follows the output of trainers whose executor keeps it (Kubernetes: the pod log) into run_logs, every
 * `intervalMs` while they run, so the run page shows it live as it does for local trainers. Each read is the
 * whole log from the start: line i gets seq 2i (stdout's numbering, as LogTailer's), so a hub that takes over
 * after a restart stores the lines it re-reads under the seqs they already have, and nothing twice. (A line
 * the trainer is still writing when it is read is stored as far as it got.)
 */
export class ExecutorLogFollower extends PollingLogFollower<FollowedLog> {
  constructor(
    private readonly executor: Required<Pick<Executor, 'logs'>>,
    store: RunLogStore,
    log: Logger,
    intervalMs = 3000,
  ) {
    super(store, log, intervalMs);
  }

  protected async open(runId: string, attempt: number, handle: string): Promise<FollowedLog> {
    return { runId, attempt, handle, stored: 0, busy: Promise.resolve() };
  }

  protected async read(f: FollowedLog): Promise<void> {
    const lines = await this.executor.logs(f.handle);
    if (lines.length <= f.stored) return;
    await this.store.append(
      f.runId,
      f.attempt,
      lines.slice(f.stored).map((line, i) => ({ seq: (f.stored + i) * 2, stream: 'stdout' as const, line })),
    );
    f.stored = lines.length;
  }
}
