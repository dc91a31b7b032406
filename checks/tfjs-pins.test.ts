import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from './run-tool.ts';
import { readWorkspaces, rel } from './workspace-imports.ts';

// Our wasm, webgpu and custom-gradient kernels read TF.js internals (named, with who uses each, in
// packages/models/src/tfjs-internals.test.ts), so every @tensorflow/tfjs-* dependency is one exact version:
// a bump is a deliberate change of all of them at once, made after that test passes on the new version.
const TFJS = /^@tensorflow\/tfjs(-[a-z-]+)?$/;
const EXACT = /^\d+\.\d+\.\d+$/;

function tfjsDependencies(dir: string): Array<[string, string]> {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
  return ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'].flatMap((field) =>
    Object.entries(pkg[field] ?? {}).filter(([name]) => TFJS.test(name)),
  );
}

const declared = readWorkspaces(REPO_ROOT).flatMap((w) =>
  tfjsDependencies(w.dir).map(([name, range]) => ({ where: rel(REPO_ROOT, w.dir), name, range })),
);

it('every @tensorflow/tfjs-* dependency is pinned to one exact version', () => {
  expect(declared.length).toBeGreaterThan(0);
  const loose = declared.filter(({ range }) => !EXACT.test(range)).map((d) => `${d.where}: ${d.name}@${d.range}`);
  expect(loose, 'pin exactly (no ^ or ~): the kernels read TF.js internals').toEqual([]);
  const versions = [...new Set(declared.map(({ range }) => range))];
  expect(versions, 'all @tensorflow/tfjs-* pins must name the same version').toHaveLength(1);
});

it('the installed @tensorflow/tfjs-* packages are the pinned version (npm ci after changing a pin)', () => {
  const pin = declared[0]!.range;
  const installed = [...new Set(declared.map(({ name }) => name))]
    .concat(['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu'])
    .map((name) => join(REPO_ROOT, 'node_modules', name, 'package.json'))
    .filter((file) => existsSync(file)) // tfjs-node(-gpu) cannot be installed here (no libtensorflow)
    .map((file) => JSON.parse(readFileSync(file, 'utf8')) as { name: string; version: string })
    .filter(({ version }) => version !== pin)
    .map(({ name, version }) => `${name}@${version} installed, ${pin} pinned`);
  expect(installed).toEqual([]);
});
