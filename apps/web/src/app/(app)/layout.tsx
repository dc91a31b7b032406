import { Logo } from '../../components/Logo';
import { TeamSwitcher } from '../../components/TeamSwitcher';
import { UserMenu } from '../../components/UserMenu';
import { headers } from 'next/headers';
import { REQUEST_PATH_HEADER } from '../../lib/proxy-paths';
import { requireMe } from '../../lib/server-graphql';

// Everything behind sign-in shares this top bar: logo, team switcher, account menu.
export default async function AppLayout({ children }: { children: React.ReactNode }) {
  // Signed out: sign in, then come back to the page that was asked for.
  const me = await requireMe((await headers()).get(REQUEST_PATH_HEADER) ?? undefined);
  return (
    <>
      <header className="topbar">
        <Logo />
        <span className="topbar-sep" aria-hidden="true">
          /
        </span>
        <TeamSwitcher teams={me.teams.map((t) => ({ slug: t.slug, name: t.name }))} />
        <div className="topbar-spacer" />
        <UserMenu name={me.name} email={me.email} />
      </header>
      {children}
    </>
  );
}
