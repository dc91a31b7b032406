import { buildSchema, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { costLimitRule, depthLimitRule, textNesting } from './limits.ts';

const schema = buildSchema(`
  type Query { node: Node, nodes: [Node!]! }
  type Node { id: ID!, child: Node, children: [Node!]! }
`);

const errorsOf = (query: string, rule: ReturnType<typeof depthLimitRule>) =>
  validate(schema, parse(query), [...specifiedRules, rule]).map((e) => e.extensions.code ?? e.message);

describe('depthLimitRule', () => {
  it('counts nested fields, through fragments', () => {
    expect(errorsOf(`{ node { child { id } } }`, depthLimitRule(3))).toEqual([]);
    expect(errorsOf(`{ node { child { child { id } } } }`, depthLimitRule(3))).toEqual(['QUERY_TOO_DEEP']);
    expect(errorsOf(`{ node { ...F } } fragment F on Node { child { child { id } } }`, depthLimitRule(3))).toEqual([
      'QUERY_TOO_DEEP',
    ]);
  });

  it('does not loop on fragment cycles (those are reported by graphql-js itself)', () => {
    const errors = errorsOf(
      `{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { child { ...A } }`,
      depthLimitRule(10),
    );
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe('costLimitRule', () => {
  it('charges children of lists listFactor times', () => {
    // nodes(1) + 10 × (id 1 + children(1 + 10 × id 1)) = 1 + 10 × 12 = 121
    expect(errorsOf(`{ nodes { id children { id } } }`, costLimitRule(121, 10))).toEqual([]);
    expect(errorsOf(`{ nodes { id children { id } } }`, costLimitRule(120, 10))).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('stops early on fragment bombs', () => {
    const fragments = Array.from(
      { length: 30 },
      (_, i) => `fragment F${i} on Node { a: child { ...F${i + 1} } b: child { ...F${i + 1} } }`,
    );
    const query = `{ node { ...F0 } } ${fragments.join(' ')} fragment F30 on Node { id }`;
    expect(errorsOf(query, costLimitRule(10_000, 10))).toContain('QUERY_TOO_COMPLEX');
  });
});

describe('textNesting', () => {
  it('ignores brackets inside strings, block strings and comments', () => {
    expect(textNesting(`{ a(x: "{{{{", y: """ [[[ """) { b } # ((((\n }`)).toBe(2);
    expect(textNesting('{'.repeat(200))).toBe(200);
  });
});

describe('limits on the real schema', () => {
  it('let the full introspection query through (GraphiQL, codegen)', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const { getSchema } = await import('./schema/index.ts');
    const { DEFAULT_QUERY_LIMITS, limitRules } = await import('./limits.ts');
    const query = getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, specifiedByUrl: true });
    expect(validate(getSchema(), parse(query), [...specifiedRules, ...limitRules(DEFAULT_QUERY_LIMITS)])).toEqual([]);
    expect(textNesting(query)).toBeLessThanOrEqual(DEFAULT_QUERY_LIMITS.maxNesting);
  });
});

describe('fragment bombs', () => {
  it('are measured in linear time (fragments memoised), for depth and cost alike', () => {
    // F0 spreads F1 twice, F1 spreads F2 twice, ... : 2^40 leaves if expanded naively.
    const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i} on Node { ...F${i + 1} ...F${i + 1} }`);
    const query = `{ node { ...F0 } } ${fragments.join(' ')} fragment F40 on Node { id }`;
    expect(errorsOf(query, depthLimitRule(15))).toEqual([]);
    expect(errorsOf(query, costLimitRule(10_000, 10))).toEqual(['QUERY_TOO_COMPLEX']);
  });
});
