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
    // A worker runs file after file in one process instead of a fresh one per file: each file still starts its own
    // hub on its own database and closes it in afterAll, but the hub's modules (Apollo, Pothos, drizzle, pg-boss,
    // TF.js) load once per worker — a fresh process re-imported them for ~3.5 CPU-s per file, 70 files.
    isolate: false,
    // Argon2 hashing and real Postgres on 2 shared cores: generous per-test time.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
