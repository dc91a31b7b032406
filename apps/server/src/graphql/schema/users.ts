import type { User } from '@dapple/db';
import { builder } from '../builder.ts';

export const UserRef = builder.objectRef<User>('User').implement({
  description: 'A person with an account on this hub.',
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const AuthPayload = builder.objectRef<{ user: User }>('AuthPayload').implement({
  description: 'Result of signing up or in. The session itself travels in the httpOnly `dapple_session` cookie.',
  fields: (t) => ({ user: t.field({ type: UserRef, resolve: (p) => p.user }) }),
});

const SignUpInput = builder.inputType('SignUpInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: 'At least 8 characters.' }),
    name: t.string({ required: true }),
  }),
});

const SignInInput = builder.inputType('SignInInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
  }),
});

builder.queryField('me', (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: 'The signed-in user, or null when the request carries no valid session or API token.',
    resolve: (_root, _args, ctx) => ctx.viewer?.user ?? null,
  }),
);

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayload,
    description: 'Creates an account and signs it in (sets the session cookie). CONFLICT when the email is taken.',
    args: { input: t.arg({ type: SignUpInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { user, session } = await ctx.services.users.signUp(input, ctx);
      ctx.setSessionCookie(session.token, session.expiresAt);
      return { user };
    },
  }),
  signIn: t.field({
    type: AuthPayload,
    description:
      'Signs in (sets the session cookie). UNAUTHENTICATED on a wrong email or password; RATE_LIMITED after repeated failures.',
    args: { input: t.arg({ type: SignInInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { user, session } = await ctx.services.users.signIn(input, ctx);
      ctx.setSessionCookie(session.token, session.expiresAt);
      return { user };
    },
  }),
  signOut: t.boolean({
    description: 'Ends the current session and clears the cookie. False when there was no session.',
    resolve: async (_root, _args, ctx) => {
      const ended = await ctx.services.users.signOut(ctx);
      ctx.clearSessionCookie();
      return ended;
    },
  }),
}));
