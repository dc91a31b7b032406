import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './run-tool.ts';
import { bareImports, readWorkspaces, rel, sourceFiles } from './workspace-imports.ts';

const workspaces = readWorkspaces(REPO_ROOT);

/**
 * Test-only arrows that declaring would turn into workspace cycles, each with its way out. The list may only
 * shrink: anything new fails.
 * - @dapple/db's metrics test runs on @dapple/testing's migrated Postgres, and @dapple/testing depends on db.
 * - @dapple/cli's integration tests start the in-process hub (@dapple/server/testing); they belong with the
 *   server's integration tests (issue 11, item 3).
 */
const KNOWN_TEST_ARROWS: Record<string, string[]> = {
  '@dapple/db': ['@dapple/testing'],
  '@dapple/cli': ['@dapple/server'],
};
const byName = new Map(workspaces.map((w) => [w.name, w]));

/** An @dapple/x/sub import is allowed only where x's package.json exports ./sub (no reaching into internals). */
function exportedSubpath(target: string, specifier: string): boolean {
  const keys = Object.keys(byName.get(target)?.exports ?? { '.': '' });
  const sub = '.' + specifier.slice(target.length);
  return keys.some((key) => {
    const star = key.indexOf('*');
    if (star < 0) return key === sub;
    return sub.startsWith(key.slice(0, star)) && sub.endsWith(key.slice(star + 1));
  });
}

describe.each(workspaces.map((w) => [rel(REPO_ROOT, w.dir), w] as const))('%s', (_dir, workspace) => {
  const imports = sourceFiles(workspace.dir).flatMap((file) =>
    bareImports(readFileSync(file, 'utf8')).map(([name, specifier]) => ({
      file: rel(REPO_ROOT, file),
      name,
      specifier,
    })),
  );

  it('declares every package it imports in its package.json', () => {
    const undeclared = imports
      .filter(({ name }) => name !== workspace.name && !workspace.declared.has(name))
      .filter(({ name }) => !KNOWN_TEST_ARROWS[workspace.name]?.includes(name))
      .map(({ file, specifier }) => `${file}: ${specifier}`);
    expect(undeclared).toEqual([]);
  });

  it('imports other workspaces only through the entry points they export', () => {
    const deep = imports
      .filter(({ name, specifier }) => byName.has(name) && name !== workspace.name && !exportedSubpath(name, specifier))
      .map(({ file, specifier }) => `${file}: ${specifier}`);
    expect(deep).toEqual([]);
  });

  it('(a package) depends on no app, not even for its tests', () => {
    if (!rel(REPO_ROOT, workspace.dir).startsWith('packages/')) return;
    const apps = workspaces.filter((w) => rel(REPO_ROOT, w.dir).startsWith('apps/')).map((w) => w.name);
    const allowed = KNOWN_TEST_ARROWS[workspace.name] ?? [];
    expect([...workspace.declared].filter((d) => apps.includes(d) && !allowed.includes(d))).toEqual([]);
  });
});
