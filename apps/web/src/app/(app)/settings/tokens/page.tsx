import type { Metadata } from 'next';
import { ApiTokensQuery } from '../../../../graphql/operations/tokens';
import { serverRequest, unwrap } from '../../../../lib/server-graphql';
import { CreateTokenForm } from './CreateTokenForm';
import { TokenList } from './TokenList';

export const metadata: Metadata = { title: 'API tokens' };

export default async function TokensPage() {
  const data = unwrap(await serverRequest(ApiTokensQuery), 'load your API tokens');
  const tokens = data.me?.apiTokens ?? [];
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>API tokens</h1>
          <p className="muted">
            Personal tokens for scripts, the CLI and CI. A token acts as you: send it as{' '}
            <span className="mono">Authorization: Bearer dpl_…</span>
          </p>
        </div>
      </div>
      <CreateTokenForm />
      <TokenList tokens={tokens} />
    </div>
  );
}
