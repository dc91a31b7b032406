import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'db',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One embedded Postgres with a migrated template for tests that call useTestDatabase() (metrics).
    globalSetup: ['@dapple/testing/postgres-global-setup'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
