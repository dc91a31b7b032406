import { expect, it } from 'vitest';
import { excerpt, runTool } from './run-tool.ts';

it('every file is formatted by Prettier (npm run format fixes it)', async () => {
  const { code, output } = await runTool('prettier', ['--check', '.', '--log-level', 'warn']);
  expect(code, excerpt(output)).toBe(0);
});
