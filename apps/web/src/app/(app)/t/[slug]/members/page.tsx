import type { Metadata } from 'next';
import { TeamInvitesQuery } from '../../../../../graphql/operations/teams';
import { canManageMembers } from '../../../../../graphql/roles';
import { requireMe, serverRequest, unwrap } from '../../../../../lib/server-graphql';
import { loadTeam } from '../../../../../lib/team';
import { InviteForm } from './InviteForm';
import { MemberList } from './MemberList';
import { PendingInvites } from './PendingInvites';

export const metadata: Metadata = { title: 'Members' };

export default async function MembersPage({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const [load, me] = await Promise.all([loadTeam(slug), requireMe()]);
  if (load.kind !== 'ok') return null; // the layout shows why
  const { team } = load;
  const canManage = canManageMembers(team.viewerRole);
  const invites = canManage
    ? (unwrap(await serverRequest(TeamInvitesQuery, { slug }), 'load pending invites').team.invites ?? [])
    : [];

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Members</h1>
          <p className="muted">
            People in {team.name} and what they can do.{' '}
            {canManage
              ? 'Invite by email; they join with the link you share.'
              : 'Only admins and owners can invite or change roles.'}
          </p>
        </div>
      </div>
      {canManage ? <InviteForm teamId={team.id} viewerRole={team.viewerRole} /> : null}
      <MemberList
        teamId={team.id}
        teamSlug={team.slug}
        viewerId={me.id}
        viewerRole={team.viewerRole}
        members={team.members}
      />
      {canManage ? <PendingInvites invites={invites} /> : null}
    </div>
  );
}
