/**
 * Upload speed smoothed over recent samples (bytes/s) and the time left at that speed, so the numbers
 * people read do not jump with every progress event.
 */
export class RateMeter {
  private last: { at: number; bytes: number } | null = null;
  private rate = 0;

  constructor(private readonly smoothing = 0.2) {}

  sample(bytes: number, at: number): void {
    if (this.last && at > this.last.at) {
      const instant = ((bytes - this.last.bytes) * 1000) / (at - this.last.at);
      this.rate = this.rate === 0 ? instant : this.rate + this.smoothing * (instant - this.rate);
    }
    this.last = { at, bytes };
  }

  bytesPerSecond(): number {
    return this.rate;
  }

  secondsLeft(remainingBytes: number): number | null {
    return this.rate > 0 ? remainingBytes / this.rate : null;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}
