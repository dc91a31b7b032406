import { mkdirSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/** One test file's stretch of the run, in seconds since the run started. */
export interface TimelineEntry {
  file: string;
  project: string;
  /** Handed to a worker (before its imports). */
  queued: number;
  /** Its last hook done. */
  ended: number;
  /** Importing the file and everything it imports (collection). */
  collect: number;
  /** Its tests and hooks (beforeAll included: vitest's JSON report leaves hooks out). */
  run: number;
  state: string;
}

/**
 * Writes reports/vitest-timeline.json: when each test file was handed to a worker and when it ended, with its import
 * and run time. vitest's JSON report times a file from its first test's start to its last test's end, so a file whose
 * work is all in beforeAll (a type-check, a dashboard start) reads as 0 s there: the sequencer needs the whole file.
 * `npm run test:durations` records durations from this; `tsx scripts/test-timeline.ts` shows when a worker sat idle.
 */
export default class TimelineReporter implements Reporter {
  private root = '';
  private start = Date.now();
  private queued = new Map<string, number>();
  private entries: TimelineEntry[] = [];

  onInit(ctx: { config: { root: string } }): void {
    this.root = ctx.config.root;
  }

  onTestRunStart(): void {
    this.start = Date.now();
  }

  onTestModuleQueued(module: TestModule): void {
    this.queued.set(module.moduleId, Date.now());
  }

  onTestModuleEnd(module: TestModule): void {
    const now = Date.now();
    const diagnostic = module.diagnostic();
    this.entries.push({
      file: relative(this.root, module.moduleId),
      project: module.project.name,
      queued: ((this.queued.get(module.moduleId) ?? now) - this.start) / 1000,
      ended: (now - this.start) / 1000,
      collect: diagnostic.collectDuration / 1000,
      run: diagnostic.duration / 1000,
      state: module.state(),
    });
  }

  onTestRunEnd(): void {
    mkdirSync(`${this.root}/reports`, { recursive: true });
    const entries = [...this.entries].sort((a, b) => a.queued - b.queued);
    const total = (Date.now() - this.start) / 1000;
    writeFileSync(
      `${this.root}/reports/vitest-timeline.json`,
      `${JSON.stringify({ total, files: entries }, null, 1)}\n`,
    );
  }
}
