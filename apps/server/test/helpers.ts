import { expect } from 'vitest';
import { gqlClient, type GqlClient } from '@dapple/testing';
import type { TestHub } from './support/hub.ts';

export interface SignedInUser {
  client: GqlClient;
  id: string;
  email: string;
  name: string;
}

let counter = 0;

/** Signs a new user up through the API; the returned client carries their session cookie. */
export async function signUpUser(hub: TestHub, name: string, email?: string): Promise<SignedInUser> {
  const client = gqlClient(hub.graphqlUrl);
  const address = email ?? `${name.toLowerCase().replace(/\W+/g, '-')}-${++counter}@example.com`;
  const res = await client.request<{ signUp: { user: { id: string } } }>(
    `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`,
    { input: { email: address, password: `password-of-${name}`, name } },
  );
  expect(res.errors).toBeUndefined();
  return { client, id: res.data!.signUp.user.id, email: address, name };
}

export async function createTeam(user: SignedInUser, name: string, slug: string): Promise<string> {
  const res = await user.client.request<{ createTeam: { id: string } }>(
    `mutation ($input: CreateTeamInput!) { createTeam(input: $input) { id } }`,
    { input: { name, slug } },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.createTeam.id;
}

/** Invites `user` into the team with `role` (as `by`) and has them accept. */
export async function addMember(by: SignedInUser, teamId: string, user: SignedInUser, role: string): Promise<void> {
  const invite = await by.client.request<{ inviteMember: { token: string } }>(
    `mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }`,
    { input: { teamId, email: user.email, role } },
  );
  expect(invite.errors).toBeUndefined();
  const accept = await user.client.request(`mutation ($token: String!) { acceptInvite(token: $token) { id } }`, {
    token: invite.data!.inviteMember.token,
  });
  expect(accept.errors).toBeUndefined();
}
