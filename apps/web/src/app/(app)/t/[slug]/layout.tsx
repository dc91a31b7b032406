import { notFound } from 'next/navigation';
import { ChartIcon, CubeIcon, HomeIcon, ImagesIcon, KeyIcon, UsersIcon } from '../../../../components/Icons';
import { SideNav, type NavSection } from '../../../../components/SideNav';
import { loadTeam } from '../../../../lib/team';

export default async function TeamLayout({ children, params }: { children: React.ReactNode; params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const load = await loadTeam(slug);
  if (load.kind === 'not-found') notFound();
  const base = `/t/${slug}`;
  const sections: NavSection[] = [
    {
      label: 'Team',
      items: [
        { href: base, label: 'Overview', icon: <HomeIcon />, exact: true },
        { href: `${base}/datasets`, label: 'Datasets', icon: <ImagesIcon />, soon: true },
        { href: `${base}/runs`, label: 'Runs', icon: <ChartIcon />, soon: true },
        { href: `${base}/models`, label: 'Models', icon: <CubeIcon />, soon: true },
        { href: `${base}/members`, label: 'Members', icon: <UsersIcon /> },
      ],
    },
    { label: 'Account', items: [{ href: '/settings/tokens', label: 'API tokens', icon: <KeyIcon /> }] },
  ];
  return (
    <div className="shell">
      <SideNav sections={sections} label="Team" />
      <main id="main" className="main">
        {load.kind === 'forbidden' ? (
          <div className="page page-narrow">
            <div className="card empty">
              <h1>You are not a member of this team</h1>
              <p>{load.message}. Ask one of its admins for an invite link.</p>
            </div>
          </div>
        ) : (
          children
        )}
      </main>
    </div>
  );
}
