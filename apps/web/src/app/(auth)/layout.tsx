import { AuthCard } from '../../components/AuthCard';

export default function AuthLayout({ children }: { children: React.ReactNode }) {
  return <AuthCard>{children}</AuthCard>;
}
