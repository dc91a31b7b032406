import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: {
    // Same reason as apps/server/vitest.config.ts: one graphql-js realm for Apollo and our schema.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    name: 'testing',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./src/postgres-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
