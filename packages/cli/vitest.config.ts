import { defineProject } from 'vitest/config';

export default defineProject({
  // graphql 16 has no "exports" map: without this Vite loads its ESM build beside Apollo's CJS one (tests that start a hub).
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    name: 'cli',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['@dapple/testing/postgres-global-setup'],
    // A worker runs file after file in one process, as the server project does: the hub's modules load once per
    // worker instead of once per file (each file still starts its own hub on its own database).
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
