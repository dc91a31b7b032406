// The auth domain (services/auth/) in GraphQL: users, sign-up, sign-in and out, the viewer. Its API tokens: auth-tokens.ts.
import type { User } from '@dapple/db';
import type { JoinedTeam, SignUpPolicy } from '../../services/auth/index.ts';
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

export const AuthPayload = builder.objectRef<{ user: User; joined?: JoinedTeam | null }>('AuthPayload').implement({
  description: 'Result of signing up or in. The session itself travels in the httpOnly `dapple_session` cookie.',
  // `team` (the team a sign-up with an invite joined) is added in teams.ts, where the Team type lives.
  fields: (t) => ({ user: t.field({ type: UserRef, resolve: (p) => p.user }) }),
});

const SignUpModeEnum = builder.enumType('SignUpMode', {
  description: 'Who may create an account on this hub (env DAPPLE_SIGNUP).',
  values: {
    INVITE: { value: 'invite', description: "The hub's first account, then only people with a team invite." },
    OPEN: { value: 'open', description: 'Anyone.' },
  } as const,
});

const SignUpPolicyRef = builder.objectRef<SignUpPolicy>('SignUpPolicy').implement({
  description: 'What the sign-up page needs before anyone types.',
  fields: (t) => ({
    mode: t.field({ type: SignUpModeEnum, resolve: (p) => p.mode }),
    openWithoutInvite: t.exposeBoolean('openWithoutInvite', {
      description: "True in OPEN mode, and in INVITE mode while the hub has no account yet (its first user's sign-up).",
    }),
  }),
});

const SignUpInput = builder.inputType('SignUpInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: 'At least 8 characters.' }),
    name: t.string({ required: true }),
    inviteToken: t.string({
      description:
        "A team invite link's token: the account is made for the address the invite was sent to and joins its team.",
    }),
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

builder.queryField('signUpPolicy', (t) =>
  t.field({
    type: SignUpPolicyRef,
    description: 'Whether this hub takes sign-ups without an invite (asked signed out, by the sign-up page).',
    resolve: (_root, _args, ctx) => ctx.services.users.signUpPolicy(),
  }),
);

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayload,
    description:
      'Creates an account and signs it in (sets the session cookie). In INVITE mode (after the first account) and ' +
      'with an inviteToken, every refusal is one FORBIDDEN answer that does not say why; in OPEN mode without an ' +
      'invite, CONFLICT when the email is taken.',
    args: { input: t.arg({ type: SignUpInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { user, session, joined } = await ctx.services.users.signUp(input, ctx);
      ctx.setSessionCookie(session.token, session.expiresAt);
      return { user, joined };
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
