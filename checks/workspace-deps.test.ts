import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './run-tool.ts';
import {
  bareImports,
  configPackageStrings,
  readWorkspaces,
  rel,
  relativeImports,
  sourceFiles,
} from './workspace-imports.ts';

const workspaces = readWorkspaces(REPO_ROOT);

/**
 * Test-only arrows that declaring would turn into workspace cycles, each with its way out. The list may only
 * shrink: anything new fails.
 * - @dapple/db's metrics test runs on @dapple/testing's migrated Postgres, and @dapple/testing depends on db.
 */
const KNOWN_TEST_ARROWS: Record<string, string[]> = {
  '@dapple/db': ['@dapple/testing'],
};
const byName = new Map(workspaces.map((w) => [w.name, w]));

/**
 * An @dapple/x/sub import is allowed only where x's package.json exports ./sub by name (no reaching into
 * internals; wildcard exports are refused by the exports-map test below).
 */
function exportedSubpath(target: string, specifier: string): boolean {
  const sub = '.' + specifier.slice(target.length);
  return Object.hasOwn(byName.get(target)?.exports ?? {}, sub);
}

describe.each(workspaces.map((w) => [rel(REPO_ROOT, w.dir), w] as const))('%s', (_dir, workspace) => {
  const imports = sourceFiles(workspace.dir).flatMap((file) =>
    bareImports(readFileSync(file, 'utf8')).map(([name, specifier]) => ({
      file: rel(REPO_ROOT, file),
      name,
      specifier,
    })),
  );

  it('lists its public entry points by name in package.json "exports" (no "./*"), each an existing file', () => {
    const isPackage = rel(REPO_ROOT, workspace.dir).startsWith('packages/');
    const problems = [
      ...(isPackage && !workspace.hasExports ? ['package.json has no "exports" map'] : []),
      ...Object.entries(workspace.exports).flatMap(([key, target]) => [
        ...(key.includes('*') || target.includes('*') ? [`"${key}": "${target}" is a wildcard`] : []),
        ...(!target.includes('*') && !existsSync(join(workspace.dir, target))
          ? [`"${key}": ${target} is missing`]
          : []),
      ]),
    ];
    expect(problems).toEqual([]);
  });

  it('declares every package it imports in its package.json', () => {
    const undeclared = imports
      .filter(({ name }) => name !== workspace.name && !workspace.declared.has(name))
      .filter(({ name }) => !KNOWN_TEST_ARROWS[workspace.name]?.includes(name))
      .map(({ file, specifier }) => `${file}: ${specifier}`);
    expect(undeclared).toEqual([]);
  });

  it('imports other workspaces only through the entry points they export', () => {
    // vitest configs name setup files as strings (globalSetup: ['@dapple/testing/postgres-global-setup']).
    const configStrings = sourceFiles(workspace.dir)
      .filter((file) => basename(file).startsWith('vitest.config.'))
      .flatMap((file) =>
        configPackageStrings(readFileSync(file, 'utf8')).map(([name, specifier]) => ({
          file: rel(REPO_ROOT, file),
          name,
          specifier,
        })),
      );
    const deep = [...imports, ...configStrings]
      .filter(({ name, specifier }) => byName.has(name) && name !== workspace.name && !exportedSubpath(name, specifier))
      .map(({ file, specifier }) => `${file}: ${specifier}`);
    expect(deep).toEqual([]);
  });

  it('reaches no file of another workspace by a relative path', () => {
    const root = workspace.dir + sep;
    const outside = sourceFiles(workspace.dir).flatMap((file) =>
      relativeImports(readFileSync(file, 'utf8'))
        .filter((specifier) => {
          const target = resolve(dirname(file), specifier);
          return !target.startsWith(root) && workspaces.some((w) => target.startsWith(w.dir + sep));
        })
        .map((specifier) => `${rel(REPO_ROOT, file)}: ${specifier}`),
    );
    expect(outside).toEqual([]);
  });

  it('uses each test-only arrow KNOWN_TEST_ARROWS grants it, from tests only (a stale entry must go)', () => {
    const allowed = KNOWN_TEST_ARROWS[workspace.name] ?? [];
    const isTest = (file: string) => /(^|\/)test\/|\.test\.tsx?$/.test(file);
    const problems = allowed.flatMap((name) => {
      const from = imports.filter((i) => i.name === name).map((i) => i.file);
      if (from.length === 0) return [`${name}: no longer imported, remove it from KNOWN_TEST_ARROWS`];
      return from.filter((file) => !isTest(file)).map((file) => `${name}: imported by non-test ${file}`);
    });
    expect(problems).toEqual([]);
  });

  it('(a package) depends on no app, not even for its tests', () => {
    if (!rel(REPO_ROOT, workspace.dir).startsWith('packages/')) return;
    const apps = workspaces.filter((w) => rel(REPO_ROOT, w.dir).startsWith('apps/')).map((w) => w.name);
    const allowed = KNOWN_TEST_ARROWS[workspace.name] ?? [];
    expect([...workspace.declared].filter((d) => apps.includes(d) && !allowed.includes(d))).toEqual([]);
  });
});
