import type { Logger } from '../logger.ts';
import { removePidFile, writePidFile } from './processes.ts';

/** One started instance of a supervised part. */
export interface Running {
  pid: number | undefined;
  /** Settles when the process exits, whatever the reason. */
  exited: Promise<unknown>;
  stop(): Promise<void>;
}

export interface SupervisedOptions {
  name: string;
  logger: Logger;
  /** Starts the part and resolves once it serves; rejects when it could not. */
  start(): Promise<Running>;
  /** Where the pid file goes (`<data dir>/run/<name>.pid`), with the marker that identifies the process. */
  pidFile?: { dataDir: string; marker: string; group: boolean };
  /** Called after every (re)start, e.g. to say where it listens. */
  onStarted?(running: Running, restarts: number): void;
  /** Backoff: first delay, cap, and how long a run must last before the delay resets. */
  backoff?: { firstMs?: number; maxMs?: number; healthyAfterMs?: number };
}

/**
 * Keeps one child process running: when it exits without being asked to, it is started again after a delay that
 * doubles with each quick failure (1 s, 2 s, 4 s … 30 s) and resets once it has run for a minute. A failed restart
 * counts as a quick failure. `stop()` ends supervision, then the child.
 */
export class Supervised {
  private current: Running | undefined;
  private stopping = false;
  private failures = 0;
  private restarts = 0;
  private wake: (() => void) | undefined;
  private readonly firstMs: number;
  private readonly maxMs: number;
  private readonly healthyAfterMs: number;

  constructor(private readonly o: SupervisedOptions) {
    this.firstMs = o.backoff?.firstMs ?? 1000;
    this.maxMs = o.backoff?.maxMs ?? 30_000;
    this.healthyAfterMs = o.backoff?.healthyAfterMs ?? 60_000;
  }

  get pid(): number | undefined {
    return this.current?.pid;
  }

  /** The first start: a failure here is the caller's to report (nothing is retried yet). */
  async start(): Promise<Running> {
    const running = await this.launch();
    return running;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const running = this.current;
    this.current = undefined;
    await running?.stop();
    if (this.o.pidFile) await removePidFile(this.o.pidFile.dataDir, this.o.name);
  }

  private async launch(): Promise<Running> {
    const running = await this.o.start();
    if (this.stopping) {
      // stop() came while this (re)start was under way.
      await running.stop();
      throw new Error(`${this.o.name} was stopped while starting`);
    }
    this.current = running;
    if (this.o.pidFile && running.pid !== undefined) {
      await writePidFile(this.o.pidFile.dataDir, {
        name: this.o.name,
        pid: running.pid,
        marker: this.o.pidFile.marker,
        group: this.o.pidFile.group,
      });
    }
    this.o.onStarted?.(running, this.restarts);
    const startedAt = Date.now();
    void running.exited.then(() => {
      if (this.stopping || this.current !== running) return;
      if (Date.now() - startedAt >= this.healthyAfterMs) this.failures = 0;
      void this.restartLoop();
    });
    return running;
  }

  private async restartLoop(): Promise<void> {
    this.current = undefined;
    while (!this.stopping) {
      const delay = Math.min(this.maxMs, this.firstMs * 2 ** this.failures);
      this.failures += 1;
      this.o.logger.error(
        `${this.o.name} stopped unexpectedly; restarting in ${Math.round(delay / 1000)} s (restart ${this.restarts + 1})`,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = undefined;
      if (this.stopping) return;
      this.restarts += 1;
      try {
        await this.launch();
        this.o.logger.info(`${this.o.name} restarted`);
        return;
      } catch (err) {
        this.o.logger.error({ err }, `${this.o.name} could not be restarted`);
      }
    }
  }
}
