import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

/** A workspace: its folder, package.json name and what it declares it depends on. */
export interface Workspace {
  dir: string;
  name: string;
  declared: Set<string>;
  exports: Record<string, string>;
  /** Whether package.json has an "exports" field at all (an app that nothing imports may export {}). */
  hasExports: boolean;
}

const SOURCE = /\.(ts|tsx|mts|js|mjs)$/;
const SKIP_DIRS = new Set(['node_modules', '.next', 'dist', 'reports', '.dapple']);
// Static imports/exports, `import type`, dynamic import() and require() of a bare or relative specifier.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"]([^'"\s]+)['"]/gm;
const BUILTINS = new Set(builtinModules);
const PACKAGE_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i;

export function readWorkspaces(root: string): Workspace[] {
  const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    workspaces: string[];
    devDependencies?: Record<string, string>;
  };
  // The repository's tooling (vitest, typescript, tsx, prettier, eslint) is declared once at the root.
  const tooling = Object.keys(rootPkg.devDependencies ?? {});
  return rootPkg.workspaces.flatMap((pattern) => {
    const parent = join(root, pattern.replace(/\/\*$/, ''));
    return readdirSync(parent, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(parent, d.name))
      .map((dir) => {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          name: string;
          dependencies?: Record<string, string>;
          devDependencies?: Record<string, string>;
          peerDependencies?: Record<string, string>;
          optionalDependencies?: Record<string, string>;
          exports?: Record<string, string>;
        };
        const declared = new Set([
          ...tooling,
          ...Object.keys(pkg.dependencies ?? {}),
          ...Object.keys(pkg.devDependencies ?? {}),
          ...Object.keys(pkg.peerDependencies ?? {}),
          ...Object.keys(pkg.optionalDependencies ?? {}),
        ]);
        return { dir, name: pkg.name, declared, exports: pkg.exports ?? {}, hasExports: pkg.exports !== undefined };
      });
  });
}

export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP_DIRS.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every bare specifier a file imports, as [package name, full specifier]. */
export function bareImports(source: string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  for (const match of source.matchAll(SPECIFIER)) {
    const specifier = match[1]!;
    if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) continue;
    if (specifier.startsWith('@/')) continue; // the dashboard's path alias for its own src/
    const parts = specifier.split('/');
    const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
    if (BUILTINS.has(name) || !PACKAGE_NAME.test(name)) continue; // a builtin, or text in a template/comment

    found.push([name, specifier]);
  }
  return found;
}

/** Every relative specifier a file imports ('./x.ts', '../../other/src/y.ts'). */
export function relativeImports(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((match) => match[1]!).filter((specifier) => specifier.startsWith('.'));
}

/** `@dapple/…` package names written as plain strings (vitest's globalSetup/setupFiles), as [name, specifier]. */
export function configPackageStrings(source: string): Array<[string, string]> {
  return [...source.matchAll(/['"](@dapple\/[\w.-]+)((?:\/[\w.-]+)*)['"]/g)].map((m) => [m[1]!, m[1]! + m[2]!]);
}

export function rel(root: string, path: string): string {
  return relative(root, path);
}
