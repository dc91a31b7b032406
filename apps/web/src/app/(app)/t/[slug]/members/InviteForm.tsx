'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { FormError, SelectField, TextField } from '../../../../../components/Field';
import { OneTimeSecret } from '../../../../../components/OneTimeSecret';
import { SubmitButton } from '../../../../../components/SubmitButton';
import { InviteMemberMutation } from '../../../../../graphql/operations/teams';
import { ROLE_DESCRIPTIONS, ROLE_LABELS, TEAM_ROLES, type TeamRole } from '../../../../../graphql/roles';
import { toFieldErrors, type FieldErrors } from '../../../../../lib/form-errors';
import { request } from '../../../../../lib/graphql';
import { formText } from '../../../../../lib/form-text';

const FIELDS = ['email', 'role'] as const;
type Field = (typeof FIELDS)[number];

export function InviteForm({ teamId, viewerRole }: { teamId: string; viewerRole: TeamRole }) {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [errors, setErrors] = useState<FieldErrors<Field>>({});
  const [created, setCreated] = useState<{ email: string; link: string } | null>(null);
  const [role, setRole] = useState<TeamRole>('MEMBER');
  // Only owners may invite owners; the server enforces it too.
  const roles = TEAM_ROLES.filter((r) => r !== 'OWNER' || viewerRole === 'OWNER');

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const email = formText(form, 'email').trim();
    if (!email) {
      setErrors({ email: 'Enter the email address to invite' });
      return;
    }
    setPending(true);
    setErrors({});
    const result = await request(InviteMemberMutation, { input: { teamId, email, role } });
    setPending(false);
    if (!result.ok) {
      setErrors(toFieldErrors(result.errors, FIELDS));
      return;
    }
    const { token, invite } = result.data.inviteMember;
    setCreated({ email: invite.email, link: `${window.location.origin}/invite/${encodeURIComponent(token)}` });
    formElement.reset();
    setRole('MEMBER');
    router.refresh(); // the pending invites list
  }

  return (
    <section className="card" aria-labelledby="invite-heading">
      <div className="card-header">
        <div>
          <h2 id="invite-heading">Invite someone</h2>
          <p className="muted">They sign in (or sign up) with this email address and open the link.</p>
        </div>
      </div>
      <div className="card-body form">
        {created ? (
          <OneTimeSecret
            title={`Invite link for ${created.email}`}
            label="Invite link"
            value={created.link}
            hint="Copy it now and send it to them: it is shown only once and expires in 7 days."
          />
        ) : null}
        <form className="form" onSubmit={onSubmit} noValidate>
          {errors.form ? <FormError>{errors.form}</FormError> : null}
          <div className="form-row">
            <TextField
              label="Email"
              name="email"
              type="email"
              autoComplete="off"
              placeholder="teammate@example.com"
              required
              error={errors.email}
            />
            <SelectField
              label="Role"
              name="role"
              value={role}
              onChange={(e) => setRole(e.target.value as TeamRole)}
              error={errors.role}
              hint={ROLE_DESCRIPTIONS[role]}
              options={roles.map((r) => ({ value: r, label: ROLE_LABELS[r] }))}
            />
            <SubmitButton pending={pending} pendingLabel="Inviting…">
              Create invite
            </SubmitButton>
          </div>
        </form>
      </div>
    </section>
  );
}
