import { defineConfig } from 'vitest/config';

// One vitest run covers every workspace: each package/app with a vitest.config.ts is a project.
// The JSON report is what .ci/run counts passes and failures from.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
  },
});
