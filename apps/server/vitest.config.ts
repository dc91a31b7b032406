import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: {
    // graphql 16 has no "exports" map: Vite would pick its ESM build ("module") while Apollo, loaded
    // by Node, gets the CJS build, and graphql-js refuses types from "another module or realm".
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    name: 'server',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One embedded Postgres for the project, with a migrated template each test file clones.
    globalSetup: ['@dapple/testing/postgres-global-setup'],
    // Argon2 hashing and real Postgres on 2 shared cores: generous per-test time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
