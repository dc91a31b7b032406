'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { FormError } from '../../../components/Field';
import { SubmitButton } from '../../../components/SubmitButton';
import { SignOutMutation } from '../../../graphql/operations/auth';
import { AcceptInviteMutation } from '../../../graphql/operations/teams';
import { request } from '../../../lib/graphql';

export function AcceptInvite({ token }: { token: string }) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<{ code: string; message: string } | null>(null);

  async function accept(event: React.FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    const result = await request(AcceptInviteMutation, { token });
    if (!result.ok) {
      const first = result.errors[0] ?? { code: 'UNKNOWN', message: 'Could not accept the invite' };
      setError({ code: first.code, message: explain(first.code, first.message) });
      setPending(false);
      return;
    }
    router.replace(`/t/${result.data.acceptInvite.slug}`);
    router.refresh();
  }

  async function switchAccount() {
    await request(SignOutMutation);
    router.replace(`/sign-in?next=${encodeURIComponent(`/invite/${encodeURIComponent(token)}`)}`);
    router.refresh();
  }

  return (
    <form className="form" onSubmit={accept}>
      {error ? <FormError>{error.message}</FormError> : null}
      <SubmitButton pending={pending} pendingLabel="Joining…" block>
        Accept invite
      </SubmitButton>
      {error?.code === 'FORBIDDEN' ? (
        <button type="button" className="btn btn-secondary btn-block" onClick={switchAccount}>
          Sign in with another account
        </button>
      ) : null}
    </form>
  );
}

function explain(code: string, message: string): string {
  if (code === 'NOT_FOUND')
    return 'This invite link is not valid. Check that you copied all of it, or ask for a new one.';
  return message;
}
