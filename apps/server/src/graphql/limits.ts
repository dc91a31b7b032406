import {
  GraphQLError,
  getNamedType,
  getNullableType,
  isListType,
  Kind,
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
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 15,
  maxCost: 10_000,
  listFactor: 10,
  maxNesting: 128,
  maxTokens: 20_000,
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

function rootType(context: ValidationContext, operation: 'query' | 'mutation' | 'subscription') {
  const schema = context.getSchema();
  return (operation === 'query' ? schema.getQueryType() : operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType()) ?? undefined;
}

export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context) => ({
    OperationDefinition(node) {
      const depthOf = (set: SelectionSetNode, seen: Set<string>): number => {
        let max = 0;
        for (const sel of set.selections) {
          let d = 0;
          if (sel.kind === Kind.FIELD) d = sel.selectionSet ? 1 + depthOf(sel.selectionSet, seen) : 1;
          else if (sel.kind === Kind.INLINE_FRAGMENT) d = depthOf(sel.selectionSet, seen);
          else {
            const fragment = context.getFragment(sel.name.value);
            if (fragment && !seen.has(sel.name.value)) d = depthOf(fragment.selectionSet, new Set(seen).add(sel.name.value));
          }
          if (d > max) max = d;
          if (max > maxDepth) return max; // enough to report; stop walking
        }
        return max;
      };
      const depth = depthOf(node.selectionSet, new Set());
      if (depth > maxDepth) {
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

export function costLimitRule(maxCost: number, listFactor: number): ValidationRule {
  return (context) => ({
    OperationDefinition(node) {
      const costOf = (set: SelectionSetNode, parentType: GraphQLOutputType | undefined, seen: Set<string>): number => {
        let total = 0;
        for (const sel of set.selections) {
          if (sel.kind === Kind.FIELD) {
            const named = parentType ? getNamedType(parentType) : undefined;
            const fields = named && 'getFields' in named ? named.getFields() : undefined;
            const fieldType = (fields as Record<string, { type: GraphQLOutputType }> | undefined)?.[sel.name.value]?.type;
            const children = sel.selectionSet ? costOf(sel.selectionSet, fieldType, seen) : 0;
            const isList = fieldType ? isListType(getNullableType(fieldType)) : false;
            // Introspection is bounded by the depth limit and is what tools send; do not charge for it.
            if (!sel.name.value.startsWith('__')) total += 1 + (isList ? listFactor : 1) * children;
          } else if (sel.kind === Kind.INLINE_FRAGMENT) {
            const type = sel.typeCondition ? context.getSchema().getType(sel.typeCondition.name.value) : parentType;
            total += costOf(sel.selectionSet, type as GraphQLOutputType | undefined, seen);
          } else {
            const fragment = context.getFragment(sel.name.value);
            if (!fragment || seen.has(sel.name.value)) continue;
            const type = context.getSchema().getType(fragment.typeCondition.name.value) as GraphQLOutputType | undefined;
            total += costOf(fragment.selectionSet, type, new Set(seen).add(sel.name.value));
          }
          if (total > maxCost) return total; // enough to report; a fragment bomb would take forever otherwise
        }
        return total;
      };
      const cost = costOf(node.selectionSet, rootType(context, node.operation) as GraphQLOutputType | undefined, new Set());
      if (cost > maxCost) {
        context.reportError(
          new GraphQLError(`Query cost exceeds the limit of ${maxCost} (1 per field, x${listFactor} inside lists)`, {
            nodes: [node],
            extensions: { code: 'QUERY_TOO_COMPLEX', limit: maxCost },
          }),
        );
      }
    },
  });
}

export function limitRules(limits: QueryLimits): ValidationRule[] {
  return [depthLimitRule(limits.maxDepth), costLimitRule(limits.maxCost, limits.listFactor)];
}
