import { Logo } from '../../components/Logo';
import { TeamSwitcher } from '../../components/TeamSwitcher';
import { UserMenu } from '../../components/UserMenu';
import { requireMe } from '../../lib/server-graphql';

// Everything behind sign-in shares this top bar: logo, team switcher, account menu.
export default async function AppLayout({ children }: { children: React.ReactNode }) {
  const me = await requireMe();
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
