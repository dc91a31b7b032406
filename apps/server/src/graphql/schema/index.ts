import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from '../builder.ts';
// Each domain file registers its types and fields on the builder when imported.
import './auth.ts';
import './teams.ts';
import './auth-tokens.ts';
import './datasets.ts';
import './run-config.ts';
import './dataset-storage.ts';
import './runs.ts';
import './run-deletion.ts';
import './sampling.ts';
import './evaluations.ts';
import './models.ts';
import './webhooks.ts';
import './team-activity.ts';

let schema: GraphQLSchema | undefined;

/** The executable schema, built once. */
export function getSchema(): GraphQLSchema {
  return (schema ??= builder.toSchema());
}

/** The SDL committed as apps/server/schema.graphql: types and fields sorted by name, so diffs stay small. */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(getSchema()))}\n`;
}
