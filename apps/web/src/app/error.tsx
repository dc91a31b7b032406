'use client';

import { LogoMark } from '../components/Logo';

// Shown when a page could not load its data (e.g. the API is unreachable). Offers a retry.
export default function ErrorPage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main id="main" className="auth">
      <div className="card auth-card">
        <div className="auth-head">
          <LogoMark size={36} />
          <h1>Something went wrong</h1>
          <p className="muted">
            This page could not be loaded.{' '}
            {error.digest ? <span className="mono">Reference: {error.digest}</span> : null}
          </p>
        </div>
        <button type="button" className="btn btn-primary btn-block" onClick={reset}>
          Try again
        </button>
      </div>
    </main>
  );
}
