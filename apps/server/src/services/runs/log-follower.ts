import type { Logger } from 'pino';
import type { RunLogStore } from './logs.ts';

/** Copies a trainer attempt's output into run_logs while it runs, and what is left of it when it ends. */
export interface TrainerLogFollower {
  /** Starts following an attempt (again after a hub restart: lines already stored are not stored twice). */
  watch(runId: string, attempt: number, handle: string): Promise<void>;
  /** Reads what is left and stops following. */
  unwatch(runId: string, attempt: number): Promise<void>;
  close(): Promise<void>;
}

/** What a follower keeps per attempt; `busy` chains its reads so a slow one is not overtaken by the next tick. */
export interface Followed {
  runId: string;
  attempt: number;
  busy: Promise<void>;
}

/**
 * The bookkeeping every follower shares: one entry per attempt, a timer that reads them all every `intervalMs`
 * while any is followed, one read at a time per attempt, a final read on unwatch. Subclasses say how an
 * attempt's cursor starts (`open`) and how new output is read from it (`read`).
 */
export abstract class PollingLogFollower<F extends Followed> implements TrainerLogFollower {
  private readonly followed = new Map<string, F>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    protected readonly store: RunLogStore,
    protected readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  /** The attempt's cursor: where reading starts (again, after a hub restart). */
  protected abstract open(runId: string, attempt: number, handle: string): Promise<F>;
  /** Stores the output that arrived since the last read; `final`: the trainer has ended, read everything. */
  protected abstract read(f: F, final: boolean): Promise<void>;

  private key = (runId: string, attempt: number) => `${runId}#${attempt}`;

  async watch(runId: string, attempt: number, handle: string): Promise<void> {
    const key = this.key(runId, attempt);
    if (this.followed.has(key)) return;
    this.followed.set(key, await this.open(runId, attempt, handle));
    this.timer ??= setInterval(() => void this.pollAll(), this.intervalMs);
  }

  async unwatch(runId: string, attempt: number): Promise<void> {
    const f = this.followed.get(this.key(runId, attempt));
    if (!f) return;
    await this.poll(f, true);
    this.followed.delete(this.key(runId, attempt));
    if (this.followed.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Stops the timer after one last read of each attempt (the trainers go on: a later hub follows them). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.pollAll();
    this.followed.clear();
  }

  private async pollAll(): Promise<void> {
    await Promise.all([...this.followed.values()].map((f) => this.poll(f, false)));
  }

  private poll(f: F, final: boolean): Promise<void> {
    f.busy = f.busy
      .then(() => this.read(f, final))
      .catch((err) => this.log.warn({ err, runId: f.runId }, 'could not copy trainer output'));
    return f.busy;
  }
}
