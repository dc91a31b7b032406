import type { Metadata } from 'next';
import { AuthCard } from '../../../components/AuthCard';
import { Logo } from '../../../components/Logo';
import { AlertIcon } from '../../../components/Icons';
import { shownVersion } from '../../../components/models/shown-version';
import {
  ModelCardSection,
  NoVersions,
  PlaygroundSection,
  SampleGridSection,
  TrainingMetricsSection,
  VersionsSection,
} from '../../../components/models/VersionSections';
import styles from '../../../components/models/models.module.css';
import { SharedModelQuery, readModelVersions } from '../../../graphql/operations/models';
import { serverRequest, unwrap } from '../../../lib/server-graphql';

type Props = { params: Promise<{ token: string }>; searchParams: Promise<{ v?: string | string[] }> };

export const metadata: Metadata = { title: 'Shared model', robots: { index: false } };

/**
 * A model opened through a share link: read-only, sampling on the server, no account needed. Outside the
 * signed-in shell: a visitor sees this model and nothing else of the team.
 */
export default async function SharedModelPage({ params, searchParams }: Props) {
  const [{ token }, query] = await Promise.all([params, searchParams]);
  const result = await serverRequest(SharedModelQuery, { token });
  if (
    !result.ok &&
    result.errors.some((e) => ['FORBIDDEN', 'NOT_FOUND', 'UNAUTHENTICATED', 'BAD_USER_INPUT'].includes(e.code))
  ) {
    return <LinkNotValid />;
  }
  const model = unwrap(result, 'open the shared model').sharedModel;
  const versions = readModelVersions(model.versions);
  const version = shownVersion(versions, model.aliases, query.v);
  const here = `/share/${encodeURIComponent(token)}`;

  return (
    <>
      <header className="topbar">
        <Logo />
        <span className="topbar-spacer" />
        <span className="badge">Shared with a link · read-only</span>
      </header>
      <main id="main" className="main">
        <div className="page">
          <div className="page-header">
            <div>
              <h1>{model.name}</h1>
              <p className="muted">
                {versions.length} {versions.length === 1 ? 'version' : 'versions'}
                {model.description ? ` · ${model.description}` : ''}
              </p>
            </div>
          </div>
          {!version ? (
            <NoVersions>This model has no versions to show.</NoVersions>
          ) : (
            <div className={styles.layout}>
              <div className={styles.column}>
                <PlaygroundSection version={version} shareToken={token} />
                <VersionsSection
                  versions={versions}
                  selectedId={version.id}
                  versionHref={(n) => `${here}?v=${n}`}
                  canDelete={false}
                  shareToken={token}
                />
                <ModelCardSection version={version} />
              </div>
              <div className={styles.column}>
                <SampleGridSection modelName={model.name} version={version} />
                <TrainingMetricsSection version={version} />
              </div>
            </div>
          )}
        </div>
      </main>
    </>
  );
}

function LinkNotValid() {
  return (
    <AuthCard>
      <div className="auth-head">
        <span className="empty-icon">
          <AlertIcon size={22} />
        </span>
        <h1>This share link no longer works</h1>
        <p className="muted">
          It was revoked or it expired, or it was copied incompletely. Ask the person who sent it for a new link.
        </p>
      </div>
    </AuthCard>
  );
}
