import { describe, expect, it } from 'vitest';
import { excerpt, runTool } from './run-tool.ts';

// Packages are consumed as TypeScript source, so one program over every non-web workspace checks each file once
// (tsconfig.json at the root); the dashboard has its own compiler options (JSX, Next's globals).
describe('type-check', () => {
  it.each([
    ['every workspace but the dashboard', 'tsconfig.json'],
    ['the dashboard', 'apps/web/tsconfig.json'],
  ])('%s (tsc -p %s)', async (_name, project) => {
    const { code, output } = await runTool('tsc', ['-p', project, '--noEmit', '--pretty', 'false']);
    expect(code, excerpt(output)).toBe(0);
  });
});
