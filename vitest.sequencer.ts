import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Longest files first, across every project. vitest's own order runs projects by name (so the slow browser tests of
 * `web` came last and ran alone for the final ~6 minutes) and, on a clean clone with no results cache (CI), the
 * larger files first. Starting the longest files first keeps both workers busy to the end (longest-processing-time
 * scheduling). Durations come from vitest's results cache when this machine has one, else from
 * checks/test-durations.json (recorded from a full run by `npm run test:durations`), else a guess by kind.
 */
const recorded: Record<string, number> = (() => {
  try {
    return JSON.parse(readFileSync(new URL('./checks/test-durations.json', import.meta.url), 'utf8')) as Record<
      string,
      number
    >;
  } catch {
    return {};
  }
})();

/**
 * Files whose time depends on Mesa's shader cache: on lavapipe (CI has no GPU) every WebGPU pipeline is compiled on
 * its first dispatch, so on a machine whose cache is cold — CI's — these take minutes where the recorded (warm) run
 * took seconds, and the training file, started late by its warm time, ran alone at the end of a cold run for
 * minutes. Their cold times (the training file: 139 and 148 s in fresh-clone `.ci/run`s of 2026-12-07, at the 128-bit
 * vectors vitest.config.ts asks for; 80 s alone on the idle machine was too low to start it first) make them start
 * first; on a warm machine they then end within seconds of starting, which costs the schedule nothing.
 */
const COLD_SHADER_CACHE_SECONDS: Record<string, number> = {
  'packages/models/src/nn/webgpu/training.test.ts': 145,
  'packages/models/src/nn/webgpu/conv.test.ts': 25,
};

/** A file not seen before: browser tests build and drive the dashboard (about a minute), hub tests start processes. */
function guess(path: string): number {
  if (path.startsWith('apps/web/e2e/')) return 60;
  if (path.startsWith('apps/server/test/') || path.startsWith('apps/trainer/')) return 20;
  return 5;
}

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const seconds = (spec: TestSpecification): number => {
      const path = relative(root, spec.moduleId);
      const cached = this.ctx.cache.getFileTestResults(`${spec.project.name}:${path}`)?.duration;
      const warm = cached !== undefined ? cached / 1000 : (recorded[path] ?? guess(path));
      return Math.max(warm, COLD_SHADER_CACHE_SECONDS[path] ?? 0);
    };
    const estimate = new Map(files.map((spec) => [spec, seconds(spec)]));
    return [...files].sort((a, b) => estimate.get(b)! - estimate.get(a)!);
  }
}
