/**
 * GraphQL enum values for a stored lower-case string union: `['queued', 'running']` →
 * `{ QUEUED: { value: 'queued' }, RUNNING: { value: 'running' } }`, so the API shows the GraphQL
 * convention while resolvers and inputs use the stored strings.
 */
export function upperCaseValues<T extends string>(values: readonly T[]): Record<Uppercase<T>, { value: T }> {
  return Object.fromEntries(values.map((v) => [v.toUpperCase(), { value: v }])) as Record<Uppercase<T>, { value: T }>;
}
