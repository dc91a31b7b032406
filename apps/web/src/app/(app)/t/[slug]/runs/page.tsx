import type { Metadata } from 'next';
import { NoRuns } from '../../../../../components/EmptyStates';
import Link from 'next/link';
import { PlayIcon } from '../../../../../components/Icons';
import { LiveListRefresh } from '../../../../../components/LiveListRefresh';
import { RunList } from '../../../../../components/RunList';
import { canContribute } from '../../../../../graphql/roles';
import { loadTeam } from '../../../../../lib/team';
import { loadRuns } from '../../../../../lib/team-content';

export const metadata: Metadata = { title: 'Runs' };

export default async function RunsPage({ params }: { params: Promise<{ slug: string }> }) {
  const load = await loadTeam((await params).slug);
  if (load.kind !== 'ok') return null; // the layout shows why
  const runs = await loadRuns(load.team.id, 50);
  const canCreate = canContribute(load.team.viewerRole);
  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>Runs</h1>
          <p className="muted">Training runs of {load.team.name}, newest first.</p>
        </div>
        {canCreate ? (
          <Link href={`/t/${load.team.slug}/runs/new`} className="btn btn-primary">
            <PlayIcon /> Start a run
          </Link>
        ) : null}
      </div>
      <section className="card" aria-labelledby="runs-heading">
        <div className="card-header">
          <h2 id="runs-heading">
            {runs.length === 0
              ? 'No runs'
              : runs.length === 50
                ? 'Latest 50 runs'
                : `${runs.length} ${runs.length === 1 ? 'run' : 'runs'}`}
          </h2>
          {/* Re-rendered from the server when a run of the team is started or changes (teamActivity). */}
          <LiveListRefresh teamId={load.team.id} kind="RUN" />
        </div>
        {runs.length === 0 ? (
          <NoRuns teamSlug={load.team.slug} canCreate={canCreate} />
        ) : (
          <RunList runs={runs} teamSlug={load.team.slug} canAct={canCreate} />
        )}
      </section>
    </div>
  );
}
