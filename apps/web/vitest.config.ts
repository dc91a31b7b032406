import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'web',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'e2e/**/*.test.ts'],
    // Browser tests build and start the dashboard and drive Chromium on a shared 2-core machine.
    testTimeout: 180_000,
    hookTimeout: 360_000,
  },
});
