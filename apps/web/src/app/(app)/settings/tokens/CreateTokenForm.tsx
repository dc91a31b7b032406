'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { FormError, SelectField, TextField } from '../../../../components/Field';
import { OneTimeSecret } from '../../../../components/OneTimeSecret';
import { SubmitButton } from '../../../../components/SubmitButton';
import { CreateApiTokenMutation } from '../../../../graphql/operations/tokens';
import { toFieldErrors, type FieldErrors } from '../../../../lib/form-errors';
import { request } from '../../../../lib/graphql';
import { formText } from '../../../../lib/form-text';

const FIELDS = ['name', 'expiresInDays', 'scope'] as const;
type Field = (typeof FIELDS)[number];

const EXPIRY_OPTIONS = [
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
  { value: '', label: 'Never' },
];

// READ tokens run queries and live streams only: what a dashboard script or a read-only integration needs.
const SCOPE_OPTIONS = [
  { value: 'WRITE', label: 'Read and write' },
  { value: 'READ', label: 'Read only' },
];

export function CreateTokenForm() {
  const router = useRouter();
  const [pending, setPending] = useState(false);
  const [errors, setErrors] = useState<FieldErrors<Field>>({});
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);

  async function onSubmit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const name = formText(form, 'name').trim();
    const expiry = formText(form, 'expiresInDays');
    const scope = form.get('scope') === 'READ' ? 'READ' : 'WRITE';
    if (!name) {
      setErrors({ name: 'Name the token after where it will be used, e.g. "laptop" or "CI"' });
      return;
    }
    setPending(true);
    setErrors({});
    const result = await request(CreateApiTokenMutation, {
      input: { name, expiresInDays: expiry ? Number(expiry) : null, scope },
    });
    setPending(false);
    if (!result.ok) {
      setErrors(toFieldErrors(result.errors, FIELDS));
      return;
    }
    setCreated({ name: result.data.createApiToken.apiToken.name, secret: result.data.createApiToken.secret });
    formElement.reset();
    router.refresh();
  }

  return (
    <section className="card" aria-labelledby="new-token-heading">
      <div className="card-header">
        <h2 id="new-token-heading">Create a token</h2>
      </div>
      <div className="card-body form">
        {created ? (
          <OneTimeSecret
            title={`Token “${created.name}” created`}
            label="Your new token"
            value={created.secret}
            hint="Copy it now: Dapple stores only a hash and cannot show it again."
          >
            <pre className="mono field-hint" style={{ margin: 0, whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
              {`curl -H 'content-type: application/json' -H 'authorization: Bearer ${created.secret}' \\\n  --data '{"query":"{ me { name } }"}' ${window.location.origin}/graphql`}
            </pre>
          </OneTimeSecret>
        ) : null}
        <form className="form" onSubmit={onSubmit} noValidate>
          {errors.form ? <FormError>{errors.form}</FormError> : null}
          <div className="form-row">
            <TextField
              label="Name"
              name="name"
              autoComplete="off"
              maxLength={100}
              placeholder="laptop"
              required
              error={errors.name}
            />
            <SelectField
              label="Expires after"
              name="expiresInDays"
              defaultValue="90"
              options={EXPIRY_OPTIONS}
              error={errors.expiresInDays}
            />
            <SelectField
              label="Access"
              name="scope"
              defaultValue="WRITE"
              options={SCOPE_OPTIONS}
              error={errors.scope}
            />
            <SubmitButton pending={pending} pendingLabel="Creating…">
              Create token
            </SubmitButton>
          </div>
        </form>
      </div>
    </section>
  );
}
