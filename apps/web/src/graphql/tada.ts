import type { RunConfig } from '@dapple/contracts/run-config';
import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.d.ts';

/**
 * `graphql()` parses an operation and types its result and variables from apps/server/schema.graphql
 * (via graphql-env.d.ts, regenerated with `npm run graphql:types -w @dapple/web`).
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  // RunConfigJSON: the stored run config, typed by the zod schema it was validated with.
  scalars: { DateTime: string; ID: string; RunConfigJSON: RunConfig };
}>();

export type { FragmentOf, ResultOf, VariablesOf } from 'gql.tada';
export { readFragment } from 'gql.tada';
