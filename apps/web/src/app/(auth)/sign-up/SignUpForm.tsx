'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { FormError, TextField } from '../../../components/Field';
import { SubmitButton } from '../../../components/SubmitButton';
import { SignUpMutation } from '../../../graphql/operations/auth';
import { clearErrorOnEdit, toFieldErrors, type FieldErrors } from '../../../lib/form-errors';
import { request } from '../../../lib/graphql';
import { formText } from '../../../lib/form-text';

const FIELDS = ['name', 'email', 'password'] as const;
type Field = (typeof FIELDS)[number];
const PASSWORD_MIN = 8;

export interface SignUpInvite {
  token: string;
  /** Null when the invite is unknown, used or expired (the hub will refuse it; the form still says why on submit). */
  teamName: string | null;
}

export function SignUpForm({ next, invite }: { next: string | null; invite: SignUpInvite | null }) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [errors, setErrors] = useState<FieldErrors<Field>>({});

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const input = {
      name: formText(form, 'name'),
      email: formText(form, 'email'),
      password: formText(form, 'password'),
      inviteToken: invite?.token ?? null,
    };
    // Checks the browser can make at once; the server checks everything again.
    const local: FieldErrors<Field> = {};
    if (!input.name.trim()) local.name = 'Enter your name';
    if (!input.email.trim()) local.email = 'Enter your email address';
    if (input.password.length < PASSWORD_MIN) local.password = `Use at least ${PASSWORD_MIN} characters`;
    setErrors(local);
    if (Object.keys(local).length > 0) return;

    setPending(true);
    const result = await request(SignUpMutation, { input });
    if (!result.ok) {
      setErrors(toFieldErrors(result.errors, FIELDS));
      setPending(false);
      return;
    }
    // An invite's account is already a member: straight to its team. Other new accounts have no team yet: straight
    // to creating one unless they came from elsewhere. Going through `/` (a server redirect with no loading state)
    // left a blank page for 1–2.5 s.
    const team = result.data.signUp.team;
    router.replace(team ? `/t/${team.slug}` : (next ?? '/teams/new'));
    router.refresh();
  }

  const signInHref = next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in';
  return (
    <>
      <div className="auth-head">
        <h1>Create your account</h1>
        {invite ? (
          <p className="muted" data-testid="sign-up-invite">
            {invite.teamName ? (
              <>
                You’re joining <strong>{invite.teamName}</strong>.{' '}
              </>
            ) : null}
            Use the email address the invite was sent to.
          </p>
        ) : (
          <p className="muted">Train, compare and share diffusion models with your team.</p>
        )}
      </div>
      <form className="form" method="post" onSubmit={onSubmit} onChange={clearErrorOnEdit(setErrors)} noValidate>
        {errors.form ? <FormError>{errors.form}</FormError> : null}
        <TextField label="Name" name="name" autoComplete="name" required autoFocus error={errors.name} />
        <TextField label="Email" name="email" type="email" autoComplete="email" required error={errors.email} />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          required
          minLength={PASSWORD_MIN}
          error={errors.password}
          hint={errors.password ? undefined : `At least ${PASSWORD_MIN} characters.`}
        />
        <SubmitButton pending={pending} pendingLabel="Creating account…" block>
          Create account
        </SubmitButton>
      </form>
      <p className="auth-foot">
        Already have an account? <Link href={signInHref}>Sign in</Link>
      </p>
    </>
  );
}
