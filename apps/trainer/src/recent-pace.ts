/**
 * Images per second over the last minute of wall time, everything the run does between steps included (sample
 * grids, checkpoints, held-out evaluations: they recur, so an ETA at this rate holds). It is what the trainer tells
 * the hub for the run's progress line and ETA. The images/s chart keeps the 2-s rate (ImagesPerSec, train-loop.ts),
 * which shows a slow-down as it happens, but swings an ETA computed from it by 4× whenever a grid or a busy
 * neighbour falls into the window (a run page read "40 min left", then "11 min left" two seconds later).
 */
export class RecentPace {
  /** (time, images so far) at most one a second, oldest first: the window's possible starts. */
  private readonly marks: { at: number; images: number }[];
  private images = 0;

  constructor(
    private readonly windowMs = 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.marks = [{ at: now(), images: 0 }];
  }

  /** Counts a step's images; returns the rate over the window (null for the first half second). */
  add(images: number): number | null {
    this.images += images;
    const at = this.now();
    if (at - this.marks.at(-1)!.at >= 1000) this.marks.push({ at, images: this.images });
    // Keep one mark at or before the window's start, so the window spans the whole minute.
    while (this.marks.length > 1 && this.marks[1]!.at <= at - this.windowMs) this.marks.shift();
    const from = this.marks[0]!;
    const seconds = (at - from.at) / 1000;
    return seconds >= 0.5 ? (this.images - from.images) / seconds : null;
  }
}
