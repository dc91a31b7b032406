import Link from 'next/link';
import { LogoMark } from '../components/Logo';

export default function NotFound() {
  return (
    <main id="main" className="auth">
      <div className="card auth-card">
        <div className="auth-head">
          <LogoMark size={36} />
          <h1>Page not found</h1>
          <p className="muted">There is nothing at this address. It may have moved, or the link is incomplete.</p>
        </div>
        <Link href="/" className="btn btn-primary btn-block">
          Go to your dashboard
        </Link>
      </div>
    </main>
  );
}
