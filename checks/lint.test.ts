import { expect, it } from 'vitest';
import { excerpt, runTool } from './run-tool.ts';

it('ESLint finds no errors (npm run lint)', async () => {
  const { code, output } = await runTool('eslint', ['.', '--quiet']);
  expect(code, excerpt(output)).toBe(0);
});
