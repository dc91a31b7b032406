import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { loadMe } from '../../../lib/server-graphql';
import { safeReturnPath } from '../../../lib/paths';
import { SignInForm } from './SignInForm';

export const metadata: Metadata = { title: 'Sign in' };

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const next = safeReturnPath((await searchParams).next);
  if (await loadMe()) redirect(next ?? '/');
  return <SignInForm next={next} />;
}
