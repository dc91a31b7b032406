// API tokens of the auth domain (services/auth/) in GraphQL: create, list, revoke, with their scopes.
import { API_TOKEN_SCOPES, type ApiToken } from '@dapple/db';
import { forbidden } from '../../services/errors.ts';
import { builder } from '../builder.ts';
import { upperCaseValues } from '../enum-values.ts';
import { UserRef } from './auth.ts';

const ApiTokenScopeEnum = builder.enumType('ApiTokenScope', {
  description:
    'READ: queries and subscriptions only (every mutation answers FORBIDDEN). WRITE: mutations too. Either acts with ' +
    'the role its user has in each team; a token can never do more than its user.',
  values: upperCaseValues(API_TOKEN_SCOPES),
});

const ApiTokenRef = builder.objectRef<ApiToken>('ApiToken').implement({
  description:
    'A personal API token. Send it as `Authorization: Bearer dpl_...`. The secret itself is never shown again.',
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    prefix: t.exposeString('prefix', { description: 'The first characters of the secret, to tell tokens apart.' }),
    scope: t.expose('scope', { type: ApiTokenScopeEnum }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
  }),
});

const CreateApiTokenPayload = builder
  .objectRef<{ apiToken: ApiToken; secret: string }>('CreateApiTokenPayload')
  .implement({
    fields: (t) => ({
      apiToken: t.field({ type: ApiTokenRef, resolve: (p) => p.apiToken }),
      secret: t.exposeString('secret', { description: 'The full `dpl_...` token. Shown only in this response.' }),
    }),
  });

const CreateApiTokenInput = builder.inputType('CreateApiTokenInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    expiresInDays: t.int({ description: 'Omit for a token that does not expire.' }),
    scope: t.field({ type: ApiTokenScopeEnum, description: 'Default WRITE.' }),
  }),
});

builder.objectField(UserRef, 'apiTokens', (t) =>
  t.field({
    type: [ApiTokenRef],
    description: "The user's API tokens, newest first (revoked ones included). Only visible to the user.",
    authScopes: { authenticated: true },
    resolve: (user, _args, ctx) => {
      if (ctx.viewer?.user.id !== user.id) throw forbidden('Only the user can see their API tokens');
      return ctx.services.apiTokens.listForUser(user.id);
    },
  }),
);

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreateApiTokenPayload,
    authScopes: { authenticated: true },
    args: { input: t.arg({ type: CreateApiTokenInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.services.apiTokens.create(ctx, input),
  }),
  revokeApiToken: t.field({
    type: ApiTokenRef,
    description:
      'Revokes one of your tokens; it stops working on the next request. NOT_FOUND for tokens that are not yours.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, ctx) => ctx.services.apiTokens.revoke(ctx, String(id)),
  }),
}));
