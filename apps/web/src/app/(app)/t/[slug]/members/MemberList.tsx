'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { Avatar } from '../../../../../components/Avatar';
import { FieldError } from '../../../../../components/Field';
import { InlineConfirm } from '../../../../../components/InlineConfirm';
import {
  RemoveMemberMutation,
  SetMemberRoleMutation,
  TeamMembersChangedSubscription,
} from '../../../../../graphql/operations/teams';
import { canManageMembers, ROLE_LABELS, TEAM_ROLES, type TeamRole } from '../../../../../graphql/roles';
import { formatDate } from '../../../../../lib/format';
import { request } from '../../../../../lib/graphql';
import { useSubscription } from '../../../../../lib/subscriptions';
import type { TeamDetails } from '../../../../../lib/team';

type Member = TeamDetails['members'][number];

export function MemberList({
  teamId,
  teamSlug,
  viewerId,
  viewerRole,
  members,
}: {
  teamId: string;
  teamSlug: string;
  viewerId: string;
  viewerRole: TeamRole;
  members: readonly Member[];
}) {
  const router = useRouter();
  // Someone joined, left or changed role (here or in another tab): re-render from the server.
  const live = useSubscription(TeamMembersChangedSubscription, { teamId }, () => router.refresh());
  return (
    <section className="card" aria-labelledby="members-heading" data-live={live}>
      <div className="card-header">
        <div>
          <h2 id="members-heading">Members</h2>
          <p className="muted">
            {members.length} {members.length === 1 ? 'person' : 'people'}
          </p>
        </div>
        <span
          className={`badge${live === 'live' ? ' badge-accent' : ''}`}
          title={live === 'live' ? 'Changes appear as they happen' : 'Reconnecting for live updates'}
        >
          <span className={`live-dot live-dot-${live}`} aria-hidden="true" />
          {live === 'live' ? 'Live' : live === 'error' ? 'Not live' : 'Connecting…'}
        </span>
      </div>
      <ul className="list">
        {members.map((member) => (
          <MemberRow
            key={member.user.id}
            teamId={teamId}
            teamSlug={teamSlug}
            member={member}
            viewerId={viewerId}
            viewerRole={viewerRole}
            soleOwner={member.role === 'OWNER' && members.filter((m) => m.role === 'OWNER').length === 1}
          />
        ))}
      </ul>
    </section>
  );
}

function MemberRow({
  teamId,
  teamSlug,
  member,
  viewerId,
  viewerRole,
  soleOwner,
}: {
  teamId: string;
  teamSlug: string;
  member: Member;
  viewerId: string;
  viewerRole: TeamRole;
  /** A team keeps at least one owner: the server refuses to remove or demote the last one. */
  soleOwner: boolean;
}) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const isSelf = member.user.id === viewerId;
  // Mirrors the server's rules so people only see controls they may use; the server still decides.
  const canManageThisMember = canManageMembers(viewerRole) && (member.role !== 'OWNER' || viewerRole === 'OWNER');
  const canChangeRole = canManageThisMember && !isSelf;
  const canRemove = (isSelf || canManageThisMember) && !soleOwner;
  const roleOptions = TEAM_ROLES.filter((r) => r !== 'OWNER' || viewerRole === 'OWNER');
  const errorId = `member-${member.user.id}-error`;

  async function changeRole(role: TeamRole) {
    setBusy(true);
    setError(null);
    const result = await request(SetMemberRoleMutation, { input: { teamId, userId: member.user.id, role } });
    setBusy(false);
    if (!result.ok) {
      setError(result.errors[0]?.message ?? 'Could not change the role');
      return;
    }
    router.refresh();
  }

  /** Stays busy on success: the row disappears (or the page leaves the team) once the page refreshes. */
  async function remove() {
    setBusy(true);
    setError(null);
    const result = await request(RemoveMemberMutation, { input: { teamId, userId: member.user.id } });
    if (!result.ok) {
      setBusy(false);
      setError(result.errors[0]?.message ?? 'Could not remove the member');
      return true;
    }
    if (isSelf) router.replace('/');
    router.refresh();
    return false;
  }

  return (
    <li className="list-item" data-testid={`member-${member.user.email}`}>
      <Avatar name={member.user.name} />
      <div className="list-item-main">
        <div className="list-item-title">
          {member.user.name} {isSelf ? <span className="badge">You</span> : null}
        </div>
        <div className="list-item-sub">
          {member.user.email} · joined {formatDate(member.joinedAt)}
        </div>
        {error ? <FieldError id={errorId}>{error}</FieldError> : null}
      </div>
      <div className="list-item-actions">
        {canChangeRole ? (
          <>
            <label className="visually-hidden" htmlFor={`role-${member.user.id}`}>
              Role of {member.user.name}
            </label>
            <select
              id={`role-${member.user.id}`}
              className="select"
              style={{ height: 32, width: 'auto' }}
              value={member.role}
              disabled={busy}
              aria-describedby={error ? errorId : undefined}
              onChange={(e) => changeRole(e.target.value as TeamRole)}
            >
              {(roleOptions.includes(member.role) ? roleOptions : [member.role, ...roleOptions]).map((r) => (
                <option key={r} value={r}>
                  {ROLE_LABELS[r]}
                </option>
              ))}
            </select>
          </>
        ) : (
          <span className="badge badge-accent">{ROLE_LABELS[member.role]}</span>
        )}
        {canRemove ? (
          <InlineConfirm
            label={isSelf ? 'Leave' : 'Remove'}
            confirmLabel={isSelf ? `Leave ${teamSlug}` : `Remove ${member.user.name}`}
            busy={busy}
            disabled={busy}
            onConfirm={remove}
          />
        ) : null}
      </div>
    </li>
  );
}
