'use client';

import { useRouter } from 'next/navigation';
import { useId, useRef, useState } from 'react';
import {
  CreateShareLinkMutation,
  RevokeShareLinkMutation,
  ShareModelMutation,
  UnshareModelMutation,
  type ModelSharingQuery,
} from '../../graphql/operations/models';
import type { ResultOf } from '../../graphql/tada';
import { request, type ApiError } from '../../lib/graphql';
import { formatDateTime } from '../../lib/format';
import { CopyField } from '../CopyField';
import { FieldError, FormError, SelectField, TextField } from '../Field';
import { SubmitButton } from '../SubmitButton';
import styles from './models.module.css';

type Sharing = ResultOf<typeof ModelSharingQuery>['model'];

const ROLES = [
  { value: 'VIEWER', label: 'Viewer' },
  { value: 'EDITOR', label: 'Editor' },
] as const;

const EXPIRY = [
  { value: '24', label: '1 day' },
  { value: '168', label: '7 days' },
  { value: '720', label: '30 days' },
  { value: '8760', label: '1 year' },
];

function messageFor(errors: ApiError[]): string {
  return errors[0]?.message ?? 'Something went wrong';
}

/**
 * Team admins share a model with people (by email), with other teams, and through public links (the
 * token is shown once, right after creating it). A native <dialog>: focus moves in, Esc closes it.
 */
export function ShareDialog({
  modelId,
  modelName,
  sharing,
  otherTeams,
}: {
  modelId: string;
  modelName: string;
  sharing: Sharing;
  otherTeams: readonly { id: string; name: string }[];
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  return (
    <>
      <button type="button" className="btn btn-secondary" onClick={() => dialog.current?.showModal()}>
        Share
      </button>
      <dialog ref={dialog} className={styles.dialog} aria-labelledby={titleId}>
        <div className={styles.dialogBody}>
          <div className={styles.dialogHeader}>
            <h2 id={titleId}>Share {modelName}</h2>
            <button type="button" className="btn btn-ghost btn-sm" onClick={() => dialog.current?.close()}>
              Close
            </button>
          </div>
          <PeopleAndTeams modelId={modelId} sharing={sharing} otherTeams={otherTeams} />
          <ShareLinks modelId={modelId} links={sharing.shareLinks} />
        </div>
      </dialog>
    </>
  );
}

function PeopleAndTeams({
  modelId,
  sharing,
  otherTeams,
}: {
  modelId: string;
  sharing: Sharing;
  otherTeams: readonly { id: string; name: string }[];
}) {
  const router = useRouter();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('VIEWER');
  const [teamId, setTeamId] = useState(otherTeams[0]?.id ?? '');
  const [teamRole, setTeamRole] = useState('VIEWER');
  const [pending, setPending] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string | undefined>>({});

  async function shareWithUser(event: React.FormEvent) {
    event.preventDefault();
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) {
      setErrors({ email: 'Enter the email address of the person to share with.' });
      return;
    }
    setPending('user');
    const result = await request(ShareModelMutation, {
      input: { modelId, userEmail: email.trim(), role: role as 'VIEWER' },
    });
    setPending(null);
    if (!result.ok) return setErrors({ email: messageFor(result.errors) });
    setErrors({});
    setEmail('');
    router.refresh();
  }

  async function shareWithTeam(event: React.FormEvent) {
    event.preventDefault();
    if (!teamId) return setErrors({ team: 'Choose a team.' });
    setPending('team');
    const result = await request(ShareModelMutation, { input: { modelId, teamId, role: teamRole as 'VIEWER' } });
    setPending(null);
    if (!result.ok) return setErrors({ team: messageFor(result.errors) });
    setErrors({});
    router.refresh();
  }

  async function unshare(share: Sharing['shares'][number]) {
    setPending(share.id);
    const result = await request(UnshareModelMutation, {
      modelId,
      teamId: share.teamId ?? null,
      userId: share.userId ?? null,
    });
    setPending(null);
    if (!result.ok) return setErrors({ list: messageFor(result.errors) });
    router.refresh();
  }

  return (
    <section aria-label="People and teams" style={{ display: 'grid', gap: 12 }}>
      <h3>People and teams</h3>
      <p className="muted">
        Viewers read and sample; editors also publish versions and move aliases. Members of this team see it by its
        visibility.
      </p>
      <form onSubmit={shareWithUser} className={styles.inlineForm} noValidate>
        <TextField
          label="Email"
          type="email"
          value={email}
          onChange={(e) => {
            setEmail(e.target.value);
            setErrors({});
          }}
          error={errors.email}
          autoComplete="off"
        />
        <SelectField label="Role" value={role} onChange={(e) => setRole(e.target.value)} options={ROLES} />
        <SubmitButton pending={pending === 'user'} size="sm">
          Share
        </SubmitButton>
      </form>
      {otherTeams.length > 0 ? (
        <form onSubmit={shareWithTeam} className={styles.inlineForm} noValidate>
          <SelectField
            label="Team"
            value={teamId}
            onChange={(e) => {
              setTeamId(e.target.value);
              setErrors({});
            }}
            options={otherTeams.map((t) => ({ value: t.id, label: t.name }))}
            error={errors.team}
          />
          <SelectField
            label="Team role"
            value={teamRole}
            onChange={(e) => setTeamRole(e.target.value)}
            options={ROLES}
          />
          <SubmitButton pending={pending === 'team'} size="sm" variant="secondary">
            Share with team
          </SubmitButton>
        </form>
      ) : null}
      {sharing.shares.length > 0 ? (
        <ul className="list" aria-label="Shared with">
          {sharing.shares.map((share) => (
            <li
              key={share.id}
              className="list-item"
              data-testid={`share-${share.userEmail ?? share.teamName ?? share.id}`}
            >
              <div className="list-item-main">
                <div className="list-item-title">
                  {share.userId ? (share.userName ?? share.userEmail) : `Team ${share.teamName ?? share.teamId}`}
                </div>
                <div className="list-item-sub">
                  {share.userEmail ? `${share.userEmail} · ` : ''}
                  {share.role === 'EDITOR' ? 'Editor' : 'Viewer'} since {formatDateTime(share.createdAt)}
                </div>
              </div>
              <div className="list-item-actions">
                <button
                  type="button"
                  className="btn btn-ghost btn-sm"
                  onClick={() => unshare(share)}
                  disabled={pending === share.id}
                >
                  Remove
                </button>
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      {errors.list ? <FormError>{errors.list}</FormError> : null}
    </section>
  );
}

function ShareLinks({ modelId, links }: { modelId: string; links: Sharing['shareLinks'] }) {
  const router = useRouter();
  const [hours, setHours] = useState('168');
  const [created, setCreated] = useState<string | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function create(event: React.FormEvent) {
    event.preventDefault();
    setPending('create');
    setError(null);
    const result = await request(CreateShareLinkMutation, { modelId, expiresInHours: Number(hours) });
    setPending(null);
    if (!result.ok) return setError(messageFor(result.errors));
    setCreated(`${window.location.origin}/share/${encodeURIComponent(result.data.createShareLink.token)}`);
    router.refresh();
  }

  async function revoke(id: string) {
    setPending(id);
    setError(null);
    const result = await request(RevokeShareLinkMutation, { id });
    setPending(null);
    if (!result.ok) return setError(messageFor(result.errors));
    router.refresh();
  }

  return (
    <section aria-label="Public links" style={{ display: 'grid', gap: 12 }}>
      <h3>Public links</h3>
      <p className="muted">
        Anyone with a link can read this model and sample from it, without an account, until it expires or you revoke
        it.
      </p>
      <form
        onSubmit={create}
        className={styles.inlineForm}
        noValidate
        style={{ gridTemplateColumns: 'minmax(0, 1fr) auto' }}
      >
        <SelectField label="Expires after" value={hours} onChange={(e) => setHours(e.target.value)} options={EXPIRY} />
        <SubmitButton pending={pending === 'create'} size="sm" variant="secondary">
          Create link
        </SubmitButton>
      </form>
      {error ? <FieldError>{error}</FieldError> : null}
      {created ? (
        <div className="alert alert-success" role="status">
          <CopyField label="Share link (shown only now — copy it)" value={created} />
        </div>
      ) : null}
      {links.length > 0 ? (
        <ul className="list" aria-label="Links">
          {links.map((link) => (
            <li key={link.id} className="list-item" data-testid={`link-${link.prefix}`}>
              <div className="list-item-main">
                <div className="list-item-title mono">{link.prefix}…</div>
                <div className="list-item-sub">
                  {link.revokedAt
                    ? `Revoked ${formatDateTime(link.revokedAt)}`
                    : link.active
                      ? `Expires ${formatDateTime(link.expiresAt)}`
                      : `Expired ${formatDateTime(link.expiresAt)}`}
                  {link.lastUsedAt ? ` · last used ${formatDateTime(link.lastUsedAt)}` : ' · never used'}
                </div>
              </div>
              <div className="list-item-actions">
                {link.active ? (
                  <button
                    type="button"
                    className="btn btn-danger btn-sm"
                    onClick={() => revoke(link.id)}
                    disabled={pending === link.id}
                    aria-label={`Revoke link ${link.prefix}`}
                  >
                    Revoke
                  </button>
                ) : (
                  <span className="badge">{link.revokedAt ? 'Revoked' : 'Expired'}</span>
                )}
              </div>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
