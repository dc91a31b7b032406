import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layering of apps/server/src, checked on its import statements (see src/services/README.md):
// no import cycles between files or between folders, services reach another domain only through its
// index.ts, and services know nothing of the API layers above them.

const SRC = fileURLToPath(new URL('../src', import.meta.url));
const IMPORT =
  /(?:^|[\n;])\s*(?:import|export)\b[^'";]*?\bfrom\s*'([^']+)'|\bimport\s*\(\s*'([^']+)'\s*\)|(?:^|\n)\s*import\s+'([^']+)'/g;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const files = walk(SRC).map((f) => relative(SRC, f).split(sep).join('/'));
const folders = new Set(
  files.flatMap((f) =>
    f
      .split('/')
      .slice(0, -1)
      .map((_, i, a) => a.slice(0, i + 1).join('/')),
  ),
);

/** Every import of every file: relative ones resolved to a file under src, packages by name. */
const imports = new Map(
  files.map((file) => {
    const text = readFileSync(join(SRC, file), 'utf8');
    const specs = [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2] ?? m[3])!);
    // Imports that leave src (a unit test's fixture in ../test) are not part of the layering.
    const local = specs
      .filter((s) => s.startsWith('.'))
      .map((s) =>
        relative(SRC, resolve(SRC, dirname(file), s))
          .split(sep)
          .join('/'),
      )
      .filter((t) => !t.startsWith('../'));
    return [file, { local, packages: specs.filter((s) => !s.startsWith('.')) }];
  }),
);

/**
 * The unit a file belongs to: its folder; but a file that sits beside subfolders (src/hub.ts,
 * services/errors.ts, services/index.ts) is a unit of its own, so `services/index.ts` wiring the domains
 * while the domains use `services/errors.ts` is no cycle.
 */
function unitOf(file: string): string {
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/')) : '';
  const hasSubfolders = [...folders].some((f) => f.startsWith(dir ? `${dir}/` : '') && f !== dir);
  return hasSubfolders ? file : dir;
}

function cycleIn(graph: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const found = visit(next);
      if (found) return found;
    }
    stack.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const found = visit(node);
    if (found) return found;
  }
  return null;
}

function graphOf(unit: (file: string) => string): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [file, { local }] of imports) {
    const from = unit(file);
    for (const target of local) {
      const to = unit(target);
      if (to !== from) graph.set(from, (graph.get(from) ?? new Set()).add(to));
    }
  }
  return graph;
}

const domainOf = (file: string) => /^services\/([^/]+)\//.exec(file)?.[1];

describe('apps/server/src import graph', () => {
  it('resolves every relative import to a file', () => {
    const missing = [...imports].flatMap(([file, { local }]) =>
      local.filter((t) => !files.includes(t)).map((t) => `${file} → ${t}`),
    );
    expect(missing).toEqual([]);
  });

  it('has no import cycle between files', () => {
    expect(cycleIn(graphOf((f) => f))?.join(' → ') ?? null).toBeNull();
  });

  it('has no import cycle between folders', () => {
    expect(cycleIn(graphOf(unitOf))?.join(' → ') ?? null).toBeNull();
  });

  it('reaches a services domain from outside only through its index.ts', () => {
    const deep = [...imports].flatMap(([file, { local }]) =>
      local
        .filter((t) => domainOf(t) && domainOf(t) !== domainOf(file) && !t.endsWith(`/${domainOf(t)}/index.ts`))
        .map((t) => `${file} → ${t}`),
    );
    expect(deep).toEqual([]);
  });

  it('keeps services below the API layers: no GraphQL, HTTP, jobs or hub in services/', () => {
    const upward = [...imports]
      .filter(([file]) => file.startsWith('services/'))
      .flatMap(([file, { local, packages }]) =>
        [
          ...local.filter((t) => /^(graphql|http|jobs|trainer-api)\/|^hub\.ts$/.test(t)),
          ...packages.filter(
            (p) => p === 'graphql' || p.startsWith('@apollo/') || p.startsWith('@pothos/') || p === 'express',
          ),
        ].map((t) => `${file} → ${t}`),
      );
    expect(upward).toEqual([]);
  });
});
