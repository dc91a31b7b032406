import type { Metadata } from 'next';
import { requireMe } from '../../../../lib/server-graphql';
import { CreateTeamForm } from './CreateTeamForm';

export const metadata: Metadata = { title: 'Create a team' };

export default async function NewTeamPage() {
  const me = await requireMe('/teams/new');
  const first = me.teams.length === 0;
  return (
    <main id="main" className="main">
      <div className="page page-narrow">
        <div className="page-header">
          <div>
            <h1>{first ? `Welcome, ${me.name.split(/\s+/)[0]}` : 'Create a team'}</h1>
            <p className="muted">
              {first
                ? 'Start by creating a team. Datasets, runs and models belong to a team, and you can invite people to it.'
                : 'Datasets, runs and models belong to a team. You can invite people once it exists.'}
            </p>
          </div>
        </div>
        <CreateTeamForm />
      </div>
    </main>
  );
}
