import {
  GraphQLError,
  getNamedType,
  getNullableType,
  isListType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type GraphQLOutputType,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

export interface QueryLimits {
  /** Deepest field nesting an operation may have (fragments expanded). */
  maxDepth: number;
  /** Highest estimated cost: 1 per field, children of list fields counted `listFactor` times. */
  maxCost: number;
  listFactor: number;
  /** Deepest bracket nesting in the raw text, checked before parsing (the parser is recursive). */
  maxNesting: number;
  /** Passed to graphql-js `parse`. */
  maxTokens: number;
  /**
   * Extra budget for introspection (`__schema`, `__type`, counted like any field): an operation's whole cost,
   * introspection included, must stay under `maxCost + maxIntrospectionCost`. One standard introspection
   * query fits; hundreds of aliased ones do not.
   */
  maxIntrospectionCost: number;
  /** Largest JSON response (HTTP body, or one WebSocket message) in bytes; bigger ones become RESPONSE_TOO_LARGE. */
  maxResponseBytes: number;
  /** Whether `__schema` / `__type` may be asked for at all (off: rejected with INTROSPECTION_DISABLED). */
  introspection: boolean;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 15,
  maxCost: 10_000,
  listFactor: 10,
  maxNesting: 128,
  maxTokens: 20_000,
  maxIntrospectionCost: 100_000,
  maxResponseBytes: 8 * 1024 * 1024,
  introspection: true,
};

/**
 * Deepest nesting of `{`, `[` and `(` outside strings and comments. graphql-js parses recursively, so a
 * query nested a few thousand levels deep would overflow the stack before any validation rule runs.
 */
export function textNesting(source: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
    } else if (c === '"') {
      if (source.startsWith('"""', i)) {
        const end = source.indexOf('"""', i + 3);
        i = end === -1 ? source.length : end + 2;
      } else {
        for (i++; i < source.length && source[i] !== '"' && source[i] !== '\n'; i++) if (source[i] === '\\') i++;
      }
    } else if (c === '{' || c === '[' || c === '(') {
      if (++depth > max) max = depth;
    } else if (c === '}' || c === ']' || c === ')') {
      depth--;
    }
  }
  return max;
}

export function nestingError(source: string, limits: QueryLimits): GraphQLError | undefined {
  const nesting = textNesting(source);
  if (nesting <= limits.maxNesting) return undefined;
  return new GraphQLError(`Query nesting ${nesting} exceeds the limit of ${limits.maxNesting}`, {
    extensions: { code: 'QUERY_TOO_DEEP', limit: limits.maxNesting },
  });
}

function rootType(
  context: ValidationContext,
  operation: 'query' | 'mutation' | 'subscription',
): GraphQLOutputType | undefined {
  const schema = context.getSchema();
  const root =
    operation === 'query'
      ? schema.getQueryType()
      : operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  return root ?? undefined;
}

/**
 * Measures a selection set bottom-up. A fragment's measure does not depend on where it is spread, so
 * each fragment is measured once (memoised): fragments spreading each other twice per level cannot
 * blow the walk up exponentially. Cycles measure as 0 here; graphql-js' NoFragmentCycles reports them.
 */
function selectionMeasure(
  context: ValidationContext,
  onField: (field: { name: string; type: GraphQLOutputType | undefined; children: number }) => number,
  combine: (a: number, b: number) => number,
) {
  const schema = context.getSchema();
  const fragmentMemo = new Map<string, number>();
  const inProgress = new Set<string>();
  const measure = (set: SelectionSetNode, parentType: GraphQLOutputType | undefined): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        const named = parentType ? getNamedType(parentType) : undefined;
        const fields =
          named && 'getFields' in named
            ? (named.getFields() as Record<string, { type: GraphQLOutputType }>)
            : undefined;
        // Introspection fields are not among a type's own fields; without their types, `__schema { types { … } }`
        // would not count as the list it is.
        const meta = { __schema: SchemaMetaFieldDef, __type: TypeMetaFieldDef, __typename: TypeNameMetaFieldDef };
        const type = (meta[sel.name.value as keyof typeof meta] ?? fields?.[sel.name.value])?.type;
        const children = sel.selectionSet ? measure(sel.selectionSet, type) : 0;
        total = combine(total, onField({ name: sel.name.value, type, children }));
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const type = sel.typeCondition
          ? (schema.getType(sel.typeCondition.name.value) as GraphQLOutputType | undefined)
          : parentType;
        total = combine(total, measure(sel.selectionSet, type));
      } else {
        const name = sel.name.value;
        let value = fragmentMemo.get(name);
        if (value === undefined) {
          const fragment = context.getFragment(name);
          if (!fragment || inProgress.has(name)) continue;
          inProgress.add(name);
          value = measure(
            fragment.selectionSet,
            schema.getType(fragment.typeCondition.name.value) as GraphQLOutputType | undefined,
          );
          inProgress.delete(name);
          fragmentMemo.set(name, value);
        }
        total = combine(total, value);
      }
    }
    return total;
  };
  return measure;
}

/** Rejects operations whose fields nest deeper than `maxDepth` (fragments expanded). */
export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context) => ({
    OperationDefinition(node) {
      const depthOf = selectionMeasure(context, (f) => 1 + f.children, Math.max);
      if (depthOf(node.selectionSet, rootType(context, node.operation)) > maxDepth) {
        context.reportError(
          new GraphQLError(`Query depth exceeds the limit of ${maxDepth} nested fields`, {
            nodes: [node],
            extensions: { code: 'QUERY_TOO_DEEP', limit: maxDepth },
          }),
        );
      }
    },
  });
}

/**
 * Rejects operations whose estimated cost exceeds `maxCost`: 1 per field, and what sits under a list
 * field counts `listFactor` times. Introspection fields (`__schema`, `__type`; tools send them) have their
 * own allowance on top: the whole operation, introspection included, must stay under
 * `maxCost + maxIntrospectionCost`, so nothing is free (`__typename` costs 1 like any field).
 */
export function costLimitRule(maxCost: number, listFactor: number, maxIntrospectionCost = 0): ValidationRule {
  return (context) => ({
    OperationDefinition(node) {
      const measureWith = (countIntrospection: boolean) =>
        selectionMeasure(
          context,
          (f) => {
            if (!countIntrospection && f.name.startsWith('__')) return 0;
            const isList = f.type ? isListType(getNullableType(f.type)) : false;
            return 1 + (isList ? listFactor : 1) * f.children;
          },
          (a, b) => a + b,
        );
      const root = rootType(context, node.operation);
      const report = (limit: number, what: string) =>
        context.reportError(
          new GraphQLError(
            `Query cost exceeds the limit of ${limit} (${what}1 per field, x${listFactor} inside lists)`,
            {
              nodes: [node],
              extensions: { code: 'QUERY_TOO_COMPLEX', limit },
            },
          ),
        );
      if (measureWith(false)(node.selectionSet, root) > maxCost) report(maxCost, '');
      else if (measureWith(true)(node.selectionSet, root) > maxCost + maxIntrospectionCost)
        report(maxCost + maxIntrospectionCost, 'introspection included, ');
      // The list factor underestimates `__schema { types }` (every type of the schema); what one `__schema` returns
      // is bounded by the schema, so aliases of it are what must be bounded.
      const countOf = (name: string) =>
        selectionMeasure(
          context,
          (f) => (f.name === name ? 1 : 0) + f.children,
          (a, b) => a + b,
        )(node.selectionSet, root);
      const schemas = countOf('__schema');
      const types = countOf('__type');
      if (schemas > 1 || types > MAX_TYPE_LOOKUPS) {
        context.reportError(
          new GraphQLError(
            `An operation may ask for __schema once and __type at most ${MAX_TYPE_LOOKUPS} times (it asks ${schemas} and ${types})`,
            { nodes: [node], extensions: { code: 'QUERY_TOO_COMPLEX' } },
          ),
        );
      }
    },
  });
}

const MAX_TYPE_LOOKUPS = 20;

/** Refuses `__schema` and `__type` anywhere in an operation (`__typename` stays: clients need it). */
export function noIntrospectionRule(): ValidationRule {
  return (context) => ({
    Field(node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        context.reportError(
          new GraphQLError('Introspection is disabled on this hub (DAPPLE_GRAPHQL_INTROSPECTION=1 turns it on)', {
            nodes: [node],
            extensions: { code: 'INTROSPECTION_DISABLED' },
          }),
        );
      }
    },
  });
}

export function limitRules(limits: QueryLimits): ValidationRule[] {
  return [
    ...(limits.introspection ? [] : [noIntrospectionRule()]),
    depthLimitRule(limits.maxDepth),
    costLimitRule(limits.maxCost, limits.listFactor, limits.maxIntrospectionCost),
  ];
}

/** The error a response over `maxResponseBytes` is replaced with. */
export function responseTooLarge(bytes: number, limit: number) {
  return {
    errors: [
      {
        message: `Response of ${bytes} bytes exceeds the limit of ${limit} bytes; ask for fewer fields or items`,
        extensions: { code: 'RESPONSE_TOO_LARGE', limit },
      },
    ],
  };
}
