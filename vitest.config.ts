import { defineConfig } from 'vitest/config';
import { CPU_BANNER } from './packages/models/src/cpu-banner.ts';

// One vitest run covers every workspace: each package/app with a vitest.config.ts is a project.
// The JSON report is what .ci/run counts passes and failures from.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'checks'],
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
    // Test fixtures build models on TF.js' cpu backend without selectBackend (which silences it), so each such
    // file would print the banner.
    onConsoleLog: (log) => !CPU_BANNER.test(log),
  },
});
