/**
 * The run config's shape (see config-shape.ts), for what is built from the schema rather than written again:
 * the hub's GraphQL run-config types and enums, and clients that send configs as GraphQL variables.
 */
import { configShape, fromGraphQLEnums, toGraphQLEnums, type ConfigObject } from './config-shape.ts';
import { RunConfigSchema } from './run-config.ts';

let shape: ConfigObject | undefined;

/** The run config's fields as a caller may send them (read once from RunConfigSchema). */
export function runConfigShape(): ConfigObject {
  return (shape ??= configShape(RunConfigSchema));
}

/** A run config written with the schema's values (`preset: 'tiny'`) as GraphQL variables (`preset: 'TINY'`). */
export function runConfigToGraphQL(config: unknown): unknown {
  return toGraphQLEnums(runConfigShape(), config);
}

/** GraphQL enum names in a config (`preset: 'TINY'`) back to the schema's values (`preset: 'tiny'`). */
export function runConfigFromGraphQL(config: unknown): unknown {
  return fromGraphQLEnums(runConfigShape(), config);
}
