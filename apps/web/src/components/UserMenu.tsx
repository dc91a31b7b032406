'use client';

import Link from 'next/link';
import { useParams, useRouter } from 'next/navigation';
import { useState } from 'react';
import { SignOutMutation } from '../graphql/operations/auth';
import { request } from '../lib/graphql';
import { Avatar } from './Avatar';
import { ChevronDownIcon, KeyIcon, LogOutIcon } from './Icons';
import { Menu } from './Menu';

export function UserMenu({ name, email }: { name: string; email: string }) {
  // Inside a team, its API tokens page keeps the team's header and nav.
  const { slug } = useParams<{ slug?: string }>();
  const router = useRouter();
  const [signingOut, setSigningOut] = useState(false);

  async function signOut() {
    setSigningOut(true);
    await request(SignOutMutation);
    // Whatever the answer, leave the signed-in area; the cookie is cleared by the server.
    router.replace('/sign-in');
    router.refresh();
  }

  return (
    <Menu
      align="right"
      summaryLabel={`Account: ${name}`}
      label={
        <>
          <Avatar name={name} size="sm" />
          <span className="menu-label user-name" data-testid="user-name">
            {name}
          </span>
          <ChevronDownIcon />
        </>
      }
    >
      <div className="menu-user">
        <strong>{name}</strong>
        <span className="muted">{email}</span>
      </div>
      <div className="menu-sep" />
      <Link href={slug ? `/t/${slug}/tokens` : '/settings/tokens'} className="menu-item">
        <KeyIcon />
        API tokens
      </Link>
      <button type="button" className="menu-item" onClick={signOut} disabled={signingOut}>
        <LogOutIcon />
        {signingOut ? 'Signing out…' : 'Sign out'}
      </button>
    </Menu>
  );
}
