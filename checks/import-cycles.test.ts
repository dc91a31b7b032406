import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './run-tool.ts';
import { readWorkspaces, relativeImports, sourceFiles } from './workspace-imports.ts';

// The whole repository's import graph, at the level a newcomer reads it: no cycle between folders inside any
// workspace (tests, benches and scripts included), and none between workspaces (what each package.json declares,
// dev dependencies included). apps/server/test/import-graph.test.ts checks the server's layering in more detail.

const workspaces = readWorkspaces(REPO_ROOT);

/** The file a relative specifier names (TypeScript's `.js` → `.ts`, extensionless and folder imports). */
function resolveImport(from: string, specifier: string): string | null {
  const base = resolve(dirname(from), specifier);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.js$/, '.tsx'),
    ...['.ts', '.tsx', '.mts', '.js', '.mjs'].map((ext) => base + ext),
    ...['index.ts', 'index.tsx'].map((index) => join(base, index)),
  ];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? null;
}

/**
 * The unit a file belongs to: its folder; but a file that sits beside subfolders (src/hub.ts, services/index.ts)
 * is a unit of its own, so an index wiring its subfolders while they use a sibling helper is no cycle (the rule of
 * apps/server/test/import-graph.test.ts).
 */
function unitOf(file: string, folders: Set<string>): string {
  const dir = dirname(file);
  const hasSubfolders = [...folders].some((f) => f.startsWith(dir + sep));
  return hasSubfolders ? file : dir;
}

/** The strongly connected components of more than one node (Tarjan): each is one or more cycles. */
function cyclesIn(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const show = (component: string[]) => component.map((p) => relative(REPO_ROOT, p) || '.').join(' ⇄ ');

describe.each(workspaces.map((w) => [relative(REPO_ROOT, w.dir), w] as const))('%s', (_dir, workspace) => {
  it('has no import cycle between its folders', () => {
    // A test file is a leaf (nothing imports it): counted in its folder it would make a cycle of a subfolder's test
    // that imports the parent's op which uses the subfolder (nn/webgpu/conv.test.ts → nn/conv.ts → nn/webgpu).
    const files = sourceFiles(workspace.dir).filter((f) => !/\.test\.tsx?$/.test(f));
    const folders = new Set(files.map((f) => dirname(f)).flatMap((d) => ancestorsWithin(d, workspace.dir)));
    const graph = new Map<string, Set<string>>();
    for (const file of files) {
      const from = unitOf(file, folders);
      for (const specifier of relativeImports(readFileSync(file, 'utf8'))) {
        const target = resolveImport(file, specifier);
        if (!target || !target.startsWith(workspace.dir + sep)) continue;
        const to = unitOf(target, folders);
        if (to !== from) graph.set(from, (graph.get(from) ?? new Set()).add(to));
      }
    }
    // Files beside subfolders are units of their own: a cycle among such siblings of one folder is between files,
    // not folders, and is left to the file-level checks.
    const folderOf = (unit: string) => (files.includes(unit) ? dirname(unit) : unit);
    const betweenFolders = cyclesIn(graph).filter((c) => new Set(c.map(folderOf)).size > 1);
    expect(betweenFolders.map(show)).toEqual([]);
  });
});

/** `dir` and every folder above it up to `root`. */
function ancestorsWithin(dir: string, root: string): string[] {
  const out: string[] = [];
  for (let d = dir; d.startsWith(root); d = dirname(d)) out.push(d);
  return out;
}

describe('workspaces', () => {
  it('depend on each other without a cycle (dev dependencies included)', () => {
    const names = new Set(workspaces.map((w) => w.name));
    const graph = new Map(workspaces.map((w) => [w.name, new Set([...w.declared].filter((d) => names.has(d)))]));
    expect(cyclesIn(graph).map((c) => c.join(' ⇄ '))).toEqual([]);
  });
});
