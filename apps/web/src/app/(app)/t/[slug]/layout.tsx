import Link from 'next/link';
import { ChartIcon, CubeIcon, HomeIcon, ImagesIcon, KeyIcon, UsersIcon } from '../../../../components/Icons';
import { SideNav, type NavSection } from '../../../../components/SideNav';
import { loadTeam } from '../../../../lib/team';

export default async function TeamLayout({
  children,
  params,
}: {
  children: React.ReactNode;
  params: Promise<{ slug: string }>;
}) {
  const { slug } = await params;
  const load = await loadTeam(slug);
  const base = `/t/${slug}`;
  const sections: NavSection[] = [
    {
      label: 'Team',
      items: [
        { href: base, label: 'Overview', icon: <HomeIcon />, exact: true },
        { href: `${base}/datasets`, label: 'Datasets', icon: <ImagesIcon /> },
        { href: `${base}/runs`, label: 'Runs', icon: <ChartIcon /> },
        { href: `${base}/models`, label: 'Models', icon: <CubeIcon /> },
        { href: `${base}/members`, label: 'Members', icon: <UsersIcon /> },
      ],
    },
    { label: 'Account', items: [{ href: `${base}/tokens`, label: 'API tokens', icon: <KeyIcon /> }] },
  ];
  if (load.kind === 'forbidden' || load.kind === 'not-found') {
    // Not a member (or no longer), or no such team: the API answers both alike (so slugs cannot be probed), and so
    // does the page. Nothing of the team to navigate, only a way back.
    return (
      <main id="main" className="main">
        <div className="page page-narrow">
          <div className="card empty">
            <span className="empty-icon">
              <UsersIcon size={22} />
            </span>
            <h1>You don’t have access to this team</h1>
            <p>
              Either there is no team at this address or you are not one of its members. Ask one of its admins or owners
              to send you an invite link.
            </p>
            <Link href="/" className="btn btn-primary">
              Go to your dashboard
            </Link>
          </div>
        </div>
      </main>
    );
  }
  return (
    <div className="shell">
      <SideNav sections={sections} label="Team" />
      <main id="main" className="main">
        {children}
      </main>
    </div>
  );
}
