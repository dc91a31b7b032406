import { Logo } from './Logo';

/** The centred card with the logo that sign-in, sign-up, invites and dead share links share. */
export function AuthCard({ children }: { children: React.ReactNode }) {
  return (
    <main id="main" className="auth">
      <div className="card auth-card">
        <div style={{ marginBottom: 20 }}>
          <Logo />
        </div>
        {children}
      </div>
    </main>
  );
}
