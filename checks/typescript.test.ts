import { beforeAll, describe, expect, it } from 'vitest';
import { TARGETS, type TargetResult } from '../scripts/lint.ts';
import { excerpt, runTool } from './run-tool.ts';

// Type-check and type-aware lint share each TypeScript program (scripts/lint.ts): the root tsconfig.json's (every
// workspace but the dashboard) and the dashboard's, each built once in a process of its own. No ESLint cache here, so
// a result never goes stale.
let results: TargetResult[] = [];
let crash = '';
beforeAll(async () => {
  const { output } = await runTool('tsx', ['scripts/lint.ts', '--typecheck', '--json']);
  // The JSON line comes last on stdout; a warning on stderr may still follow it.
  const line = output
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('[{'));
  if (line) results = JSON.parse(line) as TargetResult[];
  else crash = output;
}, 15 * 60_000);

describe.each(TARGETS.map((t) => t.tsconfig))('%s', (tsconfig) => {
  const result = () => {
    const found = results.find((r) => r.tsconfig === tsconfig);
    if (!found) throw new Error(`scripts/lint.ts gave no result for ${tsconfig}:\n${excerpt(crash)}`);
    return found;
  };
  it(`the compiler finds no errors (tsc -p ${tsconfig} --noEmit)`, () => {
    expect(result().typeErrors, excerpt(result().typeOutput)).toBe(0);
  });
  it('ESLint finds no errors and no warnings in its files (npm run lint)', () => {
    const { lintErrors, lintWarnings, lintOutput } = result();
    expect(lintErrors + lintWarnings, excerpt(lintOutput, 120)).toBe(0);
  });
});
