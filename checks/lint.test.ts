import { expect, it } from 'vitest';
import { excerpt, runTool } from './run-tool.ts';

it('ESLint finds no errors and no warnings (npm run lint)', async () => {
  const { code, output } = await runTool('eslint', ['.', '--max-warnings', '0']);
  expect(code, excerpt(output)).toBe(0);
});
