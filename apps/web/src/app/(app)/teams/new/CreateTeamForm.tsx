'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { FormError, TextField } from '../../../../components/Field';
import { SubmitButton } from '../../../../components/SubmitButton';
import { CreateTeamMutation } from '../../../../graphql/operations/teams';
import { clearErrorOnEdit, toFieldErrors, type FieldErrors } from '../../../../lib/form-errors';
import { request } from '../../../../lib/graphql';
import { SLUG_PATTERN, slugify } from '../../../../lib/paths';

const FIELDS = ['name', 'slug'] as const;
type Field = (typeof FIELDS)[number];

export function CreateTeamForm() {
  const router = useRouter();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  // The slug follows the name until the user edits it by hand.
  const [slugEdited, setSlugEdited] = useState(false);
  const [pending, setPending] = useState(false);
  const [errors, setErrors] = useState<FieldErrors<Field>>({});

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const local: FieldErrors<Field> = {};
    if (!name.trim()) local.name = 'Enter a name for the team';
    if (!SLUG_PATTERN.test(slug)) local.slug = 'Use 1–40 lowercase letters, digits or inner hyphens, e.g. vision-lab';
    setErrors(local);
    if (Object.keys(local).length > 0) return;

    setPending(true);
    const result = await request(CreateTeamMutation, { input: { name: name.trim(), slug } });
    if (!result.ok) {
      setErrors(toFieldErrors(result.errors, FIELDS));
      setPending(false);
      return;
    }
    router.push(`/t/${result.data.createTeam.slug}`);
    router.refresh();
  }

  return (
    <form className="card card-body form" onSubmit={onSubmit} onChange={clearErrorOnEdit(setErrors)} noValidate>
      {errors.form ? <FormError>{errors.form}</FormError> : null}
      <TextField
        label="Team name"
        name="name"
        required
        autoFocus
        maxLength={100}
        placeholder="Vision Lab"
        value={name}
        error={errors.name}
        onChange={(e) => {
          setName(e.target.value);
          if (!slugEdited) setSlug(slugify(e.target.value));
        }}
      />
      <TextField
        label="URL"
        name="slug"
        prefix="/t/"
        required
        maxLength={40}
        placeholder="vision-lab"
        value={slug}
        error={errors.slug}
        hint="Lowercase letters, digits and hyphens. Teammates use it in links and API calls."
        onChange={(e) => {
          setSlugEdited(true);
          setSlug(e.target.value.toLowerCase());
        }}
      />
      <div>
        <SubmitButton pending={pending} pendingLabel="Creating…">
          Create team
        </SubmitButton>
      </div>
    </form>
  );
}
