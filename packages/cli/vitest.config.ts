import { defineProject } from 'vitest/config';

export default defineProject({
  // graphql 16 has no "exports" map: without this Vite loads its ESM build beside Apollo's CJS one (tests that start a hub).
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    name: 'cli',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['@dapple/testing/postgres-global-setup'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
