import type { ParallelStepStats } from '@dapple/models/parallel';

/**
 * Images per second of one CPU worker, pooled over workers and steps since the last take(): images computed /
 * seconds spent computing them (forward + backward of its slice). Times the worker count, it is what perfect
 * scaling would give; images_per_sec below that is time spent summing, updating, or waiting for the slowest.
 * Without data-parallel statistics (one worker) a step's wall time counts.
 */
export class WorkerThroughput {
  private images = 0;
  private ms = 0;

  add(stats: ParallelStepStats | null, batchSize: number, stepMs: number): void {
    if (!stats) {
      this.images += batchSize;
      this.ms += stepMs;
      return;
    }
    stats.images.forEach((n, r) => {
      if (n === 0) return;
      this.images += n;
      this.ms += stats.computeMs[r] ?? 0;
    });
  }

  /** The rate since the last take (null if nothing was added), and starts a new window. */
  take(): number | null {
    const rate = this.ms > 0 ? (this.images * 1000) / this.ms : null;
    this.images = 0;
    this.ms = 0;
    return rate;
  }
}
