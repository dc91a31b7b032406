/** Initials of a person or team, on a tinted disc (or rounded square for teams). */
export function Avatar({ name, size, square }: { name: string; size?: 'sm'; square?: boolean }) {
  const initials =
    name
      .trim()
      .split(/\s+/)
      .slice(0, 2)
      .map((part) => part.charAt(0))
      .join('') || '?';
  const className = ['avatar', size === 'sm' ? 'avatar-sm' : '', square ? 'avatar-square' : '']
    .filter(Boolean)
    .join(' ');
  return (
    <span className={className} aria-hidden="true">
      {initials}
    </span>
  );
}
