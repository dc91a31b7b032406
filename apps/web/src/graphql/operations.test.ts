import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { buildSchema, Kind, parse, print, validate, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as operations from './operations/index';

const here = dirname(fileURLToPath(import.meta.url));
const SCHEMA_FILE = join(here, '../../../server/schema.graphql');
const GENERATED_TYPES = join(here, 'graphql-env.d.ts');

function documents(): [string, DocumentNode][] {
  return Object.entries(operations).filter(
    (entry): entry is [string, DocumentNode] => (entry[1] as { kind?: string }).kind === 'Document',
  );
}

// The dashboard's operations are typed from schema.graphql at build time; this catches drift at test time too
// (a renamed field, a new required argument) with graphql-js's own validation rules.
describe('dashboard operations against apps/server/schema.graphql', () => {
  it('exports operations to check', () => {
    expect(documents().length).toBeGreaterThanOrEqual(10);
  });

  it.each(documents())('%s is valid against the schema', async (_name, document) => {
    const schema = buildSchema(await readFile(SCHEMA_FILE, 'utf8'));
    const errors = validate(schema, parse(print(document)));
    expect(errors.map((e) => e.message)).toEqual([]);
  });

  it('gives every operation a unique name matching its export', () => {
    const names = documents().map(([exportName, document]) => {
      const definition = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
      const name = definition && 'name' in definition ? definition.name?.value : undefined;
      expect(exportName.startsWith(name ?? '<anonymous>'), `${exportName} declares operation ${name}`).toBe(true);
      return name;
    });
    expect(new Set(names).size).toBe(names.length);
  });

  it('has graphql-env.d.ts generated from the current schema (npm run graphql:types -w @dapple/web)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dapple-web-types-'));
    try {
      const out = join(dir, 'graphql-env.d.ts');
      const cli = join(dirname(createRequire(import.meta.url).resolve('gql.tada/package.json')), 'bin/cli.js');
      await promisify(execFile)(process.execPath, [
        cli,
        'generate',
        'output',
        '--tsconfig',
        join(here, '../../tsconfig.json'),
        '--output',
        out,
      ]);
      expect(await readFile(out, 'utf8')).toBe(await readFile(GENERATED_TYPES, 'utf8'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
