import type { Metadata } from 'next';
import { CreateTeamForm } from './CreateTeamForm';

export const metadata: Metadata = { title: 'Create a team' };

export default function NewTeamPage() {
  return (
    <main id="main" className="main">
      <div className="page page-narrow">
        <div className="page-header">
          <div>
            <h1>Create a team</h1>
            <p className="muted">Datasets, runs and models belong to a team. You can invite people once it exists.</p>
          </div>
        </div>
        <CreateTeamForm />
      </div>
    </main>
  );
}
