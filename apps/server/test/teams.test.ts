import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, gqlClient } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { addMember, createTeam, signUpUser } from './helpers.ts';

const SET_ROLE = `mutation ($input: SetMemberRoleInput!) { setMemberRole(input: $input) { role user { id } } }`;
const REMOVE = `mutation ($input: RemoveMemberInput!) { removeMember(input: $input) }`;
const INVITE = `mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token invite { id email role expiresAt } } }`;
const ACCEPT = `mutation ($token: String!) { acceptInvite(token: $token) { id slug viewerRole } }`;

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub?.close());

describe('teams', () => {
  it('creates a team with the creator as owner, listed under me.teams and readable by slug', async () => {
    const ann = await signUpUser(hub, 'Ann');
    const created = await ann.client.request(
      `mutation { createTeam(input: { name: "Vision Lab", slug: "vision-lab" }) { id name slug viewerRole members { role user { name } } } }`,
    );
    expect(created.errors).toBeUndefined();
    expect(created.data?.createTeam).toMatchObject({
      name: 'Vision Lab',
      slug: 'vision-lab',
      viewerRole: 'OWNER',
      members: [{ role: 'OWNER', user: { name: 'Ann' } }],
    });
    const me = await ann.client.request(`{ me { teams { slug viewerRole } } }`);
    expect(me.data?.me.teams).toEqual([{ slug: 'vision-lab', viewerRole: 'OWNER' }]);
    const bySlug = await ann.client.request(`{ team(slug: "vision-lab") { name } }`);
    expect(bySlug.data?.team.name).toBe('Vision Lab');
  });

  it('rejects a taken slug with CONFLICT and a bad slug with BAD_USER_INPUT naming the field', async () => {
    const bea = await signUpUser(hub, 'Bea');
    await createTeam(bea, 'One', 'taken-slug');
    const dup = await bea.client.request(`mutation { createTeam(input: { name: "Two", slug: "taken-slug" }) { id } }`);
    expect(errorCode(dup)).toBe('CONFLICT');
    expect(dup.errors?.[0]?.extensions?.field).toBe('slug');
    const bad = await bea.client.request(
      `mutation { createTeam(input: { name: "Three", slug: "Not A Slug!" }) { id } }`,
    );
    expect(errorCode(bad)).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.extensions?.field).toBe('slug');
  });

  it('needs a signed-in user', async () => {
    const anon = (await signUpUser(hub, 'Tmp')).client;
    await anon.request(`mutation { signOut }`);
    const res = await anon.request(`mutation { createTeam(input: { name: "X", slug: "x-anon" }) { id } }`);
    expect(errorCode(res)).toBe('UNAUTHENTICATED');
  });

  it('invites a second user who accepts and then sees the team', async () => {
    const owner = await signUpUser(hub, 'Cat');
    const teamId = await createTeam(owner, 'Cats', 'cats');
    const dan = await signUpUser(hub, 'Dan');
    const invite = await owner.client.request(INVITE, {
      input: { teamId, email: dan.email.toUpperCase(), role: 'MEMBER' },
    });
    expect(invite.errors).toBeUndefined();
    expect(invite.data?.inviteMember.invite).toMatchObject({ email: dan.email, role: 'MEMBER' });
    expect(new Date(invite.data?.inviteMember.invite.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const pending = await owner.client.request(`{ team(slug: "cats") { invites { email } } }`);
    expect(pending.data?.team.invites).toEqual([{ email: dan.email }]);

    const token = invite.data?.inviteMember.token as string;
    // The link's page names the team and role before anyone signs in (the invitee's address is not shown).
    const PREVIEW = `query ($token: String!) { invite(token: $token) { teamName role status } }`;
    const anonymous = gqlClient(hub.graphqlUrl);
    const preview = await anonymous.request(PREVIEW, { token });
    expect(preview.data?.invite).toEqual({ teamName: 'Cats', role: 'MEMBER', status: 'PENDING' });
    expect(errorCode(await anonymous.request(PREVIEW, { token: 'no-such-invite' }))).toBe('NOT_FOUND');
    // Someone else cannot use Dan's invite.
    const eve = await signUpUser(hub, 'Eve');
    expect(errorCode(await eve.client.request(ACCEPT, { token }))).toBe('FORBIDDEN');

    const accepted = await dan.client.request(ACCEPT, { token });
    expect(accepted.errors).toBeUndefined();
    expect(accepted.data?.acceptInvite).toMatchObject({ id: teamId, slug: 'cats', viewerRole: 'MEMBER' });
    expect(errorCode(await dan.client.request(ACCEPT, { token }))).toBe('CONFLICT');
    expect(errorCode(await dan.client.request(ACCEPT, { token: 'no-such-invite' }))).toBe('NOT_FOUND');
    expect((await anonymous.request(PREVIEW, { token })).data?.invite.status).toBe('ACCEPTED');

    const members = await dan.client.request(`{ team(slug: "cats") { members { role user { name } } } }`);
    expect(members.data?.team.members).toEqual([
      { role: 'OWNER', user: { name: 'Cat' } },
      { role: 'MEMBER', user: { name: 'Dan' } },
    ]);
    // Members cannot see or create invites.
    const theirView = await dan.client.request(`{ team(slug: "cats") { name invites { email } } }`);
    expect(theirView.data?.team).toEqual({ name: 'Cats', invites: null });
    expect(errorCode(theirView)).toBe('FORBIDDEN');
    expect(
      errorCode(await dan.client.request(INVITE, { input: { teamId, email: 'x@example.com', role: 'VIEWER' } })),
    ).toBe('FORBIDDEN');
  });

  it('gives a member of team A NOT_FOUND for anything of team B, the answer a missing team gets', async () => {
    const a = await signUpUser(hub, 'Alpha');
    const b = await signUpUser(hub, 'Bravo');
    await createTeam(a, 'Team A', 'team-a');
    const teamB = await createTeam(b, 'Team B', 'team-b');

    const checks = [
      await a.client.request(`{ team(slug: "team-b") { id name } }`),
      await a.client.request(INVITE, { input: { teamId: teamB, email: 'x@example.com', role: 'MEMBER' } }),
      await a.client.request(SET_ROLE, { input: { teamId: teamB, userId: b.id, role: 'VIEWER' } }),
      await a.client.request(REMOVE, { input: { teamId: teamB, userId: b.id } }),
    ];
    for (const res of checks) {
      expect(errorCode(res)).toBe('NOT_FOUND');
      expect(JSON.stringify(res.data ?? null)).not.toContain('Team B');
    }
    const missing = await a.client.request(`{ team(slug: "no-such-team") { id name } }`);
    expect(errorCode(missing)).toBe('NOT_FOUND');
    expect(checks[0]!.errors?.[0]?.message).toBe(missing.errors?.[0]?.message.replace('no-such-team', 'team-b'));
    const malformed = await a.client.request(SET_ROLE, {
      input: { teamId: 'not-a-uuid', userId: b.id, role: 'VIEWER' },
    });
    expect(errorCode(malformed)).toBe('BAD_USER_INPUT');
    expect(malformed.errors?.[0]?.extensions?.field).toBe('teamId');
    // B's team is untouched.
    const bView = await b.client.request(`{ team(slug: "team-b") { members { role } } }`);
    expect(bView.data?.team.members).toEqual([{ role: 'OWNER' }]);
  });

  it('enforces role rules: viewers cannot change roles, admins cannot touch owners, the last owner stays', async () => {
    const owner = await signUpUser(hub, 'Olga');
    const teamId = await createTeam(owner, 'Roles', 'roles');
    const admin = await signUpUser(hub, 'Adam');
    const viewer = await signUpUser(hub, 'Vic');
    const member = await signUpUser(hub, 'Meg');
    await addMember(owner, teamId, admin, 'ADMIN');
    await addMember(owner, teamId, viewer, 'VIEWER');
    await addMember(admin, teamId, member, 'MEMBER');

    // A viewer cannot change anyone's role (not even their own).
    expect(
      errorCode(await viewer.client.request(SET_ROLE, { input: { teamId, userId: member.id, role: 'VIEWER' } })),
    ).toBe('FORBIDDEN');
    expect(
      errorCode(await viewer.client.request(SET_ROLE, { input: { teamId, userId: viewer.id, role: 'ADMIN' } })),
    ).toBe('FORBIDDEN');
    // An admin can change members and viewers.
    const promoted = await admin.client.request(SET_ROLE, { input: { teamId, userId: viewer.id, role: 'MEMBER' } });
    expect(promoted.errors).toBeUndefined();
    expect(promoted.data?.setMemberRole).toEqual({ role: 'MEMBER', user: { id: viewer.id } });
    // An admin cannot demote or remove the owner, nor make anyone owner.
    expect(
      errorCode(await admin.client.request(SET_ROLE, { input: { teamId, userId: owner.id, role: 'MEMBER' } })),
    ).toBe('FORBIDDEN');
    expect(errorCode(await admin.client.request(REMOVE, { input: { teamId, userId: owner.id } }))).toBe('FORBIDDEN');
    expect(
      errorCode(await admin.client.request(SET_ROLE, { input: { teamId, userId: admin.id, role: 'OWNER' } })),
    ).toBe('FORBIDDEN');
    // The last owner can neither leave nor demote themselves.
    expect(errorCode(await owner.client.request(REMOVE, { input: { teamId, userId: owner.id } }))).toBe('CONFLICT');
    expect(
      errorCode(await owner.client.request(SET_ROLE, { input: { teamId, userId: owner.id, role: 'ADMIN' } })),
    ).toBe('CONFLICT');
    // With a second owner, the first may step down.
    expect(
      (await owner.client.request(SET_ROLE, { input: { teamId, userId: admin.id, role: 'OWNER' } })).errors,
    ).toBeUndefined();
    expect(
      (await owner.client.request(SET_ROLE, { input: { teamId, userId: owner.id, role: 'ADMIN' } })).errors,
    ).toBeUndefined();
    // A member may leave; an unknown member is NOT_FOUND.
    expect((await member.client.request(REMOVE, { input: { teamId, userId: member.id } })).data?.removeMember).toBe(
      true,
    );
    expect(errorCode(await admin.client.request(REMOVE, { input: { teamId, userId: member.id } }))).toBe('NOT_FOUND');
    expect(errorCode(await member.client.request(`{ team(slug: "roles") { id } }`))).toBe('NOT_FOUND');

    const roles = await admin.client.request(`{ team(slug: "roles") { members { role user { name } } } }`);
    expect(roles.data?.team.members).toEqual([
      { role: 'ADMIN', user: { name: 'Olga' } },
      { role: 'OWNER', user: { name: 'Adam' } },
      { role: 'MEMBER', user: { name: 'Vic' } },
    ]);
  });
});
