import Link from 'next/link';

/** The Dapple mark: a disc dappled with a few dots of different sizes. */
export function LogoMark({ size = 26 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true">
      <circle cx="16" cy="16" r="15" fill="var(--accent)" />
      <circle cx="11" cy="11" r="3.2" fill="var(--accent-text)" opacity="0.95" />
      <circle cx="20.5" cy="9.5" r="1.8" fill="var(--accent-text)" opacity="0.7" />
      <circle cx="21" cy="19" r="4" fill="var(--accent-text)" opacity="0.85" />
      <circle cx="11.5" cy="21.5" r="2.2" fill="var(--accent-text)" opacity="0.6" />
    </svg>
  );
}

export function Logo({ href = '/' }: { href?: string }) {
  return (
    <Link href={href} className="logo" aria-label="Dapple home">
      <LogoMark />
      <span className="logo-text">Dapple</span>
    </Link>
  );
}
