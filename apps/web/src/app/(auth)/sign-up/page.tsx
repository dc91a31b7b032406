import type { Metadata } from 'next';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import { SignUpPolicyQuery } from '../../../graphql/operations/auth';
import { InvitePreviewQuery } from '../../../graphql/operations/teams';
import { loadMe, serverRequest } from '../../../lib/server-graphql';
import { safeReturnPath } from '../../../lib/paths';
import { SignUpForm } from './SignUpForm';

export const metadata: Metadata = { title: 'Create your account' };

// Coming from an invite link's page (`?next=/invite/<token>`), the account is made for the invited address and joins
// its team at once.
// Without one, a hub in invite mode (DAPPLE_SIGNUP=invite, after its first account) says so instead of a form.
export default async function SignUpPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const next = safeReturnPath((await searchParams).next);
  const invite = inviteTokenOf(next);
  if (await loadMe()) redirect(next ?? '/');
  if (invite) {
    const preview = await serverRequest(InvitePreviewQuery, { token: invite });
    const teamName = preview.ok && preview.data.invite.status === 'PENDING' ? preview.data.invite.teamName : null;
    return <SignUpForm next={next} invite={{ token: invite, teamName }} />;
  }
  const policy = await serverRequest(SignUpPolicyQuery, {});
  // If the hub cannot be asked, show the form: the hub refuses a sign-up it does not take, with the same message.
  if (policy.ok && !policy.data.signUpPolicy.openWithoutInvite) return <SignUpClosed next={next} />;
  return <SignUpForm next={next} invite={null} />;
}

/** The token of an invite page to come back to (sign-in's "Create an account" link keeps only `next`). */
function inviteTokenOf(next: string | null): string | null {
  const match = next ? /^\/invite\/([^/?#]+)$/.exec(next) : null;
  if (!match?.[1]) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

function SignUpClosed({ next }: { next: string | null }) {
  const signInHref = next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in';
  return (
    <>
      <div className="auth-head" data-testid="sign-up-closed">
        <h1>Sign-up is by invitation</h1>
        <p>
          This hub creates accounts only for people invited to a team. Ask a team admin to invite you (under{' '}
          <em>Members</em>), then open the invite link they send you to create your account.
        </p>
      </div>
      <div className="form">
        <Link href={signInHref} className="btn btn-primary btn-block">
          Sign in
        </Link>
      </div>
    </>
  );
}
