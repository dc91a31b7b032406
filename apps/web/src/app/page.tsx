import { redirect } from 'next/navigation';
import { loadMe } from '../lib/server-graphql';

// The front door: signed-out visitors go to sign-in; signed-in users to their first team, or to create one.
export default async function Home() {
  const me = await loadMe();
  if (!me) redirect('/sign-in');
  const team = me.teams[0];
  redirect(team ? `/t/${team.slug}` : '/teams/new');
}
