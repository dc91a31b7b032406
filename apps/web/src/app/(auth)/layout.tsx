import { Logo } from '../../components/Logo';

export default function AuthLayout({ children }: { children: React.ReactNode }) {
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
