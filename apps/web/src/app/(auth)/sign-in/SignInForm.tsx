'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { FormError, TextField } from '../../../components/Field';
import { SubmitButton } from '../../../components/SubmitButton';
import { SignInMutation } from '../../../graphql/operations/auth';
import { clearErrorOnEdit, toFieldErrors, type FieldErrors } from '../../../lib/form-errors';
import { request } from '../../../lib/graphql';
import { formText } from '../../../lib/form-text';

const FIELDS = ['email', 'password'] as const;
type Field = (typeof FIELDS)[number];

export function SignInForm({ next }: { next: string | null }) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [errors, setErrors] = useState<FieldErrors<Field>>({});

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setPending(true);
    setErrors({});
    const result = await request(SignInMutation, {
      input: { email: formText(form, 'email'), password: formText(form, 'password') },
    });
    if (!result.ok) {
      // A wrong email or password is reported without a field; it belongs under the password.
      setErrors(toFieldErrors(result.errors, FIELDS, { UNAUTHENTICATED: 'password' }));
      setPending(false);
      return;
    }
    router.replace(next ?? '/');
    router.refresh();
  }

  const signUpHref = next ? `/sign-up?next=${encodeURIComponent(next)}` : '/sign-up';
  return (
    <>
      <div className="auth-head">
        <h1>Sign in</h1>
        <p className="muted">Welcome back. Pick up where your runs left off.</p>
      </div>
      <form className="form" method="post" onSubmit={onSubmit} onChange={clearErrorOnEdit(setErrors)} noValidate>
        {errors.form ? <FormError>{errors.form}</FormError> : null}
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          autoFocus
          error={errors.email}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={errors.password}
        />
        <SubmitButton pending={pending} pendingLabel="Signing in…" block>
          Sign in
        </SubmitButton>
      </form>
      <p className="auth-foot">
        New to Dapple? <Link href={signUpHref}>Create an account</Link>
      </p>
    </>
  );
}
