import { GraphQLError, Kind, visit, type ASTNode, type DocumentNode } from 'graphql';
import { unstorableTextProblem } from '@dapple/db';

/**
 * The one check that keeps text Postgres cannot store (NUL, lone surrogates) out of every GraphQL input: string
 * literals in the document and every string in the variables, whatever field they are for. Run before execution
 * (Apollo plugin for HTTP, onSubscribe for WebSockets) so no resolver, service or query ever sees such a string,
 * and the answer is BAD_USER_INPUT naming the field, not a database error.
 */
export function textInputError(
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
): GraphQLError | null {
  const inVariables = findInValue(variables ?? {}, []);
  if (inVariables) return badText(inVariables.path.join('.'), inVariables.problem);
  let found: { field: string; problem: string } | null = null;
  const names: string[] = [];
  // Argument and object-field names on the way down give the literal's field, e.g. `input.name`.
  visit(document, {
    enter(node: ASTNode) {
      if (found) return false;
      if (node.kind === Kind.ARGUMENT || node.kind === Kind.OBJECT_FIELD) names.push(node.name.value);
      if (node.kind === Kind.STRING) {
        const problem = unstorableTextProblem(node.value);
        if (problem) found = { field: names.join('.') || 'query', problem };
      }
      return undefined;
    },
    leave(node: ASTNode) {
      if (node.kind === Kind.ARGUMENT || node.kind === Kind.OBJECT_FIELD) names.pop();
    },
  });
  const hit = found as { field: string; problem: string } | null;
  return hit ? badText(hit.field, hit.problem) : null;
}

function findInValue(value: unknown, path: string[]): { path: string[]; problem: string } | null {
  if (typeof value === 'string') {
    const problem = unstorableTextProblem(value);
    return problem ? { path, problem } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findInValue(value[i], [...path, String(i)]);
      if (hit) return hit;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      const keyProblem = unstorableTextProblem(key);
      if (keyProblem) return { path: [...path, JSON.stringify(key)], problem: keyProblem };
      const hit = findInValue(v, [...path, key]);
      if (hit) return hit;
    }
  }
  return null;
}

function badText(field: string, problem: string): GraphQLError {
  return new GraphQLError(`${field}: ${problem}`, {
    extensions: { code: 'BAD_USER_INPUT', field, http: { status: 400 } },
  });
}
