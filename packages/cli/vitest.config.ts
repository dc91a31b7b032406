import { defineProject } from 'vitest/config';

// The CLI's own code, in process. Its runs against a real hub (the `dapple` bin as a child process) are the server's
// integration tests (apps/server/test/cli*.test.ts): a package's tests do not start an app.
export default defineProject({
  test: {
    name: 'cli',
    include: ['src/**/*.test.ts'],
  },
});
