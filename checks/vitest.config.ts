import { defineProject } from 'vitest/config';

// Whole-repository checks that CI runs through `npm test`: type-check, lint, format, workspace dependencies.
// Each shells out to the tool and fails with its output, so a red check reads like the tool run by hand.
export default defineProject({
  test: {
    name: 'checks',
    include: ['*.test.ts'],
    testTimeout: 15 * 60_000,
  },
});
