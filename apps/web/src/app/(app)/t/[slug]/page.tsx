import type { Metadata } from 'next';
import Link from 'next/link';
import { Avatar } from '../../../../components/Avatar';
import { DatasetList } from '../../../../components/DatasetList';
import { NoDatasets, NoRuns } from '../../../../components/EmptyStates';
import { GetStarted } from '../../../../components/GetStarted';
import { KeyIcon } from '../../../../components/Icons';
import { LiveListRefresh } from '../../../../components/LiveListRefresh';
import { RunList } from '../../../../components/RunList';
import { canContribute, canManageMembers, ROLE_LABELS } from '../../../../graphql/roles';
import { loadTeam } from '../../../../lib/team';
import { loadDatasets, loadRuns } from '../../../../lib/team-content';

type Params = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Params): Promise<Metadata> {
  const load = await loadTeam((await params).slug);
  return { title: load.kind === 'ok' ? load.team.name : 'Team' };
}

export default async function TeamHome({ params }: Params) {
  const { slug } = await params;
  const load = await loadTeam(slug);
  if (load.kind !== 'ok') return null; // the layout shows why
  const { team } = load;
  const canInvite = canManageMembers(team.viewerRole);
  const canCreate = canContribute(team.viewerRole);
  const [runs, datasets] = await Promise.all([loadRuns(team.id, 5), loadDatasets(team.id)]);

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>{team.name}</h1>
          <p className="muted">
            <span className="mono">/t/{team.slug}</span> · you are{' '}
            <span className="badge badge-accent">{ROLE_LABELS[team.viewerRole]}</span>
          </p>
        </div>
      </div>

      <GetStarted
        teamSlug={team.slug}
        canCreate={canCreate}
        canInvite={canInvite}
        datasets={datasets.length}
        runs={runs.length}
        members={team.members.length}
      />

      <div className="steps" style={{ gridTemplateColumns: 'repeat(auto-fit, minmax(280px, 1fr))' }}>
        <section className="card" aria-labelledby="runs-heading">
          <div className="card-header">
            <h2 id="runs-heading">Recent runs</h2>
            <LiveListRefresh teamId={team.id} kind="RUN" />
            {runs.length > 0 ? (
              <Link href={`/t/${team.slug}/runs`} className="btn btn-secondary btn-sm">
                All runs
              </Link>
            ) : null}
          </div>
          {runs.length === 0 ? (
            <NoRuns teamSlug={team.slug} canCreate={canCreate} />
          ) : (
            <RunList runs={runs} teamSlug={team.slug} canAct={canCreate} />
          )}
        </section>
        <section className="card" aria-labelledby="datasets-heading">
          <div className="card-header">
            <h2 id="datasets-heading">Datasets</h2>
            <LiveListRefresh teamId={team.id} kind="DATASET" />
            {datasets.length > 0 ? (
              <Link href={`/t/${team.slug}/datasets`} className="btn btn-secondary btn-sm">
                All datasets
              </Link>
            ) : null}
          </div>
          {datasets.length === 0 ? (
            <NoDatasets teamSlug={team.slug} canCreate={canCreate} />
          ) : (
            <DatasetList datasets={datasets.slice(0, 5)} teamSlug={team.slug} />
          )}
        </section>
      </div>

      <section className="card" aria-labelledby="members-heading">
        <div className="card-header">
          <div>
            <h2 id="members-heading">Members</h2>
            <p className="muted">
              {team.members.length} {team.members.length === 1 ? 'person' : 'people'}
            </p>
          </div>
          <Link href={`/t/${team.slug}/members`} className="btn btn-secondary btn-sm">
            {canInvite ? 'Manage' : 'All members'}
          </Link>
        </div>
        <ul className="list">
          {team.members.slice(0, 5).map((m) => (
            <li key={m.user.id} className="list-item">
              <Avatar name={m.user.name} />
              <div className="list-item-main">
                <div className="list-item-title">{m.user.name}</div>
                <div className="list-item-sub">{m.user.email}</div>
              </div>
              <span className="badge">{ROLE_LABELS[m.role]}</span>
            </li>
          ))}
        </ul>
      </section>

      <section className="card card-body" aria-labelledby="api-heading" style={{ display: 'grid', gap: 8 }}>
        <h2 id="api-heading">Use Dapple from scripts</h2>
        <p className="muted">
          Everything in this dashboard is a GraphQL API. Create a personal token and send it as{' '}
          <span className="mono">Authorization: Bearer dpl_…</span>.
        </p>
        <Link href={`/t/${team.slug}/tokens`} className="btn btn-secondary btn-sm" style={{ justifySelf: 'start' }}>
          <KeyIcon /> API tokens
        </Link>
      </section>
    </div>
  );
}
