'use client';

import Link from 'next/link';
import { useParams } from 'next/navigation';
import { Avatar } from './Avatar';
import { CheckIcon, ChevronDownIcon, PlusIcon } from './Icons';
import { Menu } from './Menu';

export interface TeamSummary {
  slug: string;
  name: string;
}

/** Shows the team of the current page (from the `/t/[slug]` route) and switches to another. */
export function TeamSwitcher({ teams }: { teams: readonly TeamSummary[] }) {
  const params = useParams<{ slug?: string }>();
  const current = teams.find((t) => t.slug === params.slug);
  return (
    <Menu
      summaryLabel={current ? `Team: ${current.name}. Switch team` : 'Choose a team'}
      label={
        <>
          {current ? <Avatar name={current.name} size="sm" square /> : null}
          <span className="menu-label">{current ? current.name : 'Choose a team'}</span>
          <ChevronDownIcon />
        </>
      }
    >
      <div className="menu-heading">Teams</div>
      {teams.length === 0 ? <p className="menu-user muted">You are not in a team yet.</p> : null}
      {teams.map((team) => (
        <Link
          key={team.slug}
          href={`/t/${team.slug}`}
          className="menu-item"
          aria-current={team.slug === current?.slug ? 'true' : undefined}
        >
          <Avatar name={team.name} size="sm" square />
          <span>{team.name}</span>
          {team.slug === current?.slug ? (
            <span className="check">
              <CheckIcon />
            </span>
          ) : null}
        </Link>
      ))}
      <div className="menu-sep" />
      <Link href="/teams/new" className="menu-item">
        <PlusIcon />
        Create a team
      </Link>
    </Menu>
  );
}
