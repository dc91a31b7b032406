import { defineProject } from 'vitest/config';

export default defineProject({
  // graphql 16 has no "exports" map: without this Vite loads its ESM build beside Apollo's CJS one (tests that start a hub).
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    name: 'trainer',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // test/ trains against a real in-process hub: one embedded Postgres for the project.
    globalSetup: ['@dapple/testing/postgres-global-setup'],
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
