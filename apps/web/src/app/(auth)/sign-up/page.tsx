import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { loadMe } from '../../../lib/server-graphql';
import { safeReturnPath } from '../../../lib/paths';
import { SignUpForm } from './SignUpForm';

export const metadata: Metadata = { title: 'Create your account' };

export default async function SignUpPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const next = safeReturnPath((await searchParams).next);
  if (await loadMe()) redirect(next ?? '/');
  return <SignUpForm next={next} />;
}
