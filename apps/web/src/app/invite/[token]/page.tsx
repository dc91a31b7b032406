import type { Metadata } from 'next';
import Link from 'next/link';
import { AuthCard } from '../../../components/AuthCard';
import { MailIcon } from '../../../components/Icons';
import { loadMe } from '../../../lib/server-graphql';
import { AcceptInvite } from './AcceptInvite';

export const metadata: Metadata = { title: 'Join a team' };

// Reachable signed out: an invitee may not have an account yet. Signing in or up comes back here.
export default async function InvitePage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const me = await loadMe();
  const here = `/invite/${encodeURIComponent(token)}`;
  return (
    <AuthCard>
      <div className="auth-head">
        <span className="empty-icon">
          <MailIcon size={22} />
        </span>
        <h1>You’re invited to a team</h1>
        {me ? (
          <p className="muted">
            Signed in as <strong>{me.name}</strong> ({me.email}). The invite must have been sent to this address.
          </p>
        ) : (
          <p className="muted">
            Sign in, or create an account, with the email address the invite was sent to. You’ll come back here to join.
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
