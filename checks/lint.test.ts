import { expect, it } from 'vitest';
import { excerpt, runTool } from './run-tool.ts';

// Type-aware rules need each file's TypeScript program, so scripts/lint.ts runs one ESLint process per project
// (tsconfig.json), a few at a time; no cache here, so a result never goes stale.
it('ESLint finds no errors and no warnings in any project (npm run lint)', async () => {
  const { code, output } = await runTool('tsx', ['scripts/lint.ts']);
  expect(code, excerpt(output, 120)).toBe(0);
});
