import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { CPU_BANNER } from './packages/models/src/cpu-banner.ts';
import LongestFirstSequencer from './vitest.sequencer.ts';

// One vitest run covers every workspace: each package/app with a vitest.config.ts is a project.
// The JSON report is what .ci/run counts passes and failures from.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'checks'],
    // vitest's default is one worker per core minus one: a single worker on a 2-core machine, which runs every file
    // in turn. Most files spend their time waiting on child processes (hub, trainers, Postgres, Next.js, Chromium),
    // so one file per core overlaps those waits. Shared resources already cope with this: each file clones its own
    // database from the migrated template, ports come from freePort(), and the dashboard build and Chromium unpack
    // take a lock.
    maxWorkers: Math.max(2, availableParallelism()),
    // Longest files first across all projects (vitest.sequencer.ts), so no slow file starts last and runs alone.
    sequence: { sequencer: LongestFirstSequencer },
    // The timeline (reports/vitest-timeline.json) times each whole file, hooks and imports included: the sequencer's
    // durations come from it (npm run test:durations), and scripts/test-timeline.ts shows where a worker sat idle.
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }], './vitest.timeline-reporter.ts'],
    // Test fixtures build models on TF.js' cpu backend without selectBackend (which silences it), so each such
    // file would print the banner.
    onConsoleLog: (log) => !CPU_BANNER.test(log),
    // The WebGPU tests run on Mesa's lavapipe where there is no GPU (CI). llvmpipe compiles each pipeline with LLVM
    // on its first dispatch, at the host's widest vectors by default (AVX-512 here: 16 lanes); with 4-lane vectors
    // the same compiles take a third of the time or less (nn/webgpu/training.test.ts on a cold Mesa cache: 526 s →
    // 143 s; conv.test.ts 68 s → 21 s), and warm runs take as long as before. Only lavapipe reads this variable.
    // Test workers get it from here (vitest passes the root config's env to every project).
    env: { LP_NATIVE_VECTOR_WIDTH: process.env['LP_NATIVE_VECTOR_WIDTH'] ?? '128' },
  },
});
