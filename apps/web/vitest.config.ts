import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: {
    // graphql 16 has no "exports" map: Vite would pick its ESM build for the hub's TypeScript source while
    // Apollo, loaded by Node, gets the CJS build, and graphql-js refuses types "from another module or realm".
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    name: 'web',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'e2e/**/*.test.ts'],
    // Browser tests run a real hub on a test database cloned from this run's embedded Postgres.
    // The dashboards and Chromiums they borrow, one per file at a time, are started once per run by the pool.
    globalSetup: ['@dapple/testing/postgres-global-setup', '@dapple/testing/dashboard-pool-global-setup'],
    // They also build and start the dashboard and drive Chromium on a shared 2-core machine.
    testTimeout: 180_000,
    // A worker runs file after file in one process, as the server project does: the hub's modules and playwright load
    // once per worker instead of once per file (each file still starts its own hub on its own database).
    isolate: false,
    hookTimeout: 360_000,
    // expect.poll waits for the page to react (password hashing, rendering) on a loaded machine: be patient.
    expect: { poll: { timeout: 30_000, interval: 100 } },
  },
});
