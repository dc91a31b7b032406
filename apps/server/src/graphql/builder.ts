import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type { RunConfig } from '@dapple/contracts/run-config';
import type { Context } from './context.ts';
import { unauthenticated } from '../services/errors.ts';

export interface AuthScopes {
  /** A signed-in user (session cookie or API token). Team roles are checked in services. */
  authenticated: boolean;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: AuthScopes;
  // Fields are non-null unless marked `nullable: true`: clients can rely on what the schema says.
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    RunConfigJSON: { Input: never; Output: RunConfig };
  };
}>({
  plugins: [ScopeAuthPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({ authenticated: ctx.viewer !== null }),
    // Every failed scope here means "not signed in": surface it with a code, not a generic error.
    unauthorizedError: () => unauthenticated(),
  },
});

builder.scalarType('DateTime', {
  description: 'An ISO-8601 timestamp in UTC, e.g. "2026-11-26T13:12:08.000Z".',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime must be an ISO-8601 string');
    return date;
  },
});

builder.scalarType('RunConfigJSON', {
  description:
    'A whole run config as a JSON object, as stored and handed to the trainer: the fields of RunConfig, with enum values as the zod schema writes them (e.g. "preset": "tiny", "sampleSampler": "dpmpp-2m-sde"). Output only.',
  serialize: (value) => value,
  parseValue: () => {
    throw new TypeError('RunConfigJSON is output only: send a RunConfigInput');
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
