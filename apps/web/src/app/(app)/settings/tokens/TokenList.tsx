'use client';

import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { FieldError } from '../../../../components/Field';
import { InlineConfirm } from '../../../../components/InlineConfirm';
import { KeyIcon } from '../../../../components/Icons';
import { RevokeApiTokenMutation, type ApiTokensQuery } from '../../../../graphql/operations/tokens';
import type { ResultOf } from '../../../../graphql/tada';
import { formatDate } from '../../../../lib/format';
import { request } from '../../../../lib/graphql';

type Token = NonNullable<ResultOf<typeof ApiTokensQuery>['me']>['apiTokens'][number];

export function TokenList({ tokens }: { tokens: readonly Token[] }) {
  return (
    <section className="card" aria-labelledby="tokens-heading">
      <div className="card-header">
        <h2 id="tokens-heading">Your tokens</h2>
      </div>
      {tokens.length === 0 ? (
        <div className="empty">
          <span className="empty-icon">
            <KeyIcon size={22} />
          </span>
          <h3>No tokens yet</h3>
          <p>Create a token above to use Dapple from scripts, the trainer CLI or CI.</p>
        </div>
      ) : (
        <ul className="list">
          {tokens.map((token) => (
            <TokenRow key={token.id} token={token} />
          ))}
        </ul>
      )}
    </section>
  );
}

function tokenStatus(token: Token): { label: string; tone: 'accent' | 'danger' | 'plain' } {
  if (token.revokedAt) return { label: 'Revoked', tone: 'danger' };
  if (token.expiresAt && new Date(token.expiresAt).getTime() <= Date.now()) return { label: 'Expired', tone: 'plain' };
  return { label: 'Active', tone: 'accent' };
}

function TokenRow({ token }: { token: Token }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const status = tokenStatus(token);

  async function revoke() {
    setBusy(true);
    setError(null);
    const result = await request(RevokeApiTokenMutation, { id: token.id });
    setBusy(false);
    if (!result.ok) setError(result.errors[0]?.message ?? 'Could not revoke the token');
    else router.refresh();
    return true;
  }

  const details = [
    token.scope === 'READ' ? 'read only' : 'read and write',
    `created ${formatDate(token.createdAt)}`,
    token.lastUsedAt ? `last used ${formatDate(token.lastUsedAt)}` : 'never used',
    token.revokedAt
      ? `revoked ${formatDate(token.revokedAt)}`
      : token.expiresAt
        ? `expires ${formatDate(token.expiresAt)}`
        : 'no expiry',
  ];

  return (
    <li className="list-item" data-testid={`token-${token.name}`}>
      <span className="avatar avatar-square" aria-hidden="true">
        <KeyIcon />
      </span>
      <div className="list-item-main">
        <div className="list-item-title">
          {token.name} <span className="mono muted">{token.prefix}…</span>
        </div>
        <div className="list-item-sub">{details.join(' · ')}</div>
        {error ? <FieldError>{error}</FieldError> : null}
      </div>
      <div className="list-item-actions">
        <span className={`badge${status.tone === 'plain' ? '' : ` badge-${status.tone}`}`}>{status.label}</span>
        {status.label === 'Active' ? (
          <InlineConfirm label="Revoke" confirmLabel={`Revoke “${token.name}”`} busy={busy} onConfirm={revoke} />
        ) : null}
      </div>
    </li>
  );
}
