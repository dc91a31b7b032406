import type { Metadata } from 'next';
import Link from 'next/link';
import { AuthCard } from '../../../components/AuthCard';
import { MailIcon } from '../../../components/Icons';
import { InvitePreviewQuery } from '../../../graphql/operations/teams';
import { ROLE_LABELS } from '../../../graphql/roles';
import { loadMe, serverRequest } from '../../../lib/server-graphql';
import { AcceptInvite } from './AcceptInvite';

export const metadata: Metadata = { title: 'Join a team' };

// Reachable signed out: an invitee may not have an account yet. Signing in or up comes back here.
export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const [me, preview] = await Promise.all([loadMe(), serverRequest(InvitePreviewQuery, { token })]);
  const invite = preview.ok ? preview.data.invite : null;
  const here = `/invite/${encodeURIComponent(token)}`;
  return (
    <AuthCard>
      <div className="auth-head">
        <span className="empty-icon">
          <MailIcon size={22} />
        </span>
        <h1>You’re invited to a team</h1>
        {invite ? (
          <p data-testid="invite-team">
            Join <strong>{invite.teamName}</strong> as {ROLE_LABELS[invite.role].toLowerCase()}.
            {invite.status === 'EXPIRED' ? ' This invite has expired: ask the team for a new one.' : null}
            {invite.status === 'ACCEPTED' ? ' This invite has already been used.' : null}
          </p>
        ) : (
          <p data-testid="invite-team">This invite link is not valid: check that it was copied whole.</p>
        )}
        {me ? (
          <p className="muted">
            Signed in as <strong>{me.name}</strong> ({me.email}). The invite must have been sent to this address.
          </p>
        ) : (
          <p className="muted">
            Create an account with the email address the invite was sent to, and you join at once; or sign in if you
            already have one, and you’ll come back here to join.
          </p>
        )}
      </div>
      {me ? (
        <AcceptInvite token={token} />
      ) : (
        <div className="form">
          <Link href={`/sign-up?next=${encodeURIComponent(here)}`} className="btn btn-primary btn-block">
            Create an account
          </Link>
          <Link href={`/sign-in?next=${encodeURIComponent(here)}`} className="btn btn-secondary btn-block">
            Sign in
          </Link>
        </div>
      )}
    </AuthCard>
  );
}
