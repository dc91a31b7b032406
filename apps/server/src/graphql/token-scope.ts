import { getOperationAST, GraphQLError, OperationTypeNode, type DocumentNode } from 'graphql';
import type { Viewer } from '../services/types.ts';

/**
 * The one check of an API token's scope (ApiTokenScope), made for every operation before it runs — over HTTP
 * (hub.ts, Apollo's didResolveOperation) and over WebSocket (http/ws-server.ts) — so no resolver has to remember
 * it: a READ token runs queries and subscriptions, and every mutation is refused with FORBIDDEN naming the scope.
 * What the token may read is still decided by its user's role in each team, as for a session.
 */
export function tokenScopeError(
  document: DocumentNode,
  operationName: string | null | undefined,
  viewer: Viewer | null | undefined,
): GraphQLError | null {
  if (viewer?.kind !== 'apiToken' || viewer.apiToken.scope !== 'read') return null;
  if (getOperationAST(document, operationName ?? undefined)?.operation !== OperationTypeNode.MUTATION) return null;
  return new GraphQLError(
    `API token "${viewer.apiToken.name}" is read-only (scope READ): it cannot run mutations; create a token with scope WRITE for that`,
    { extensions: { code: 'FORBIDDEN', field: 'scope', http: { status: 403 } } },
  );
}
