'use client';

import { useEffect, useRef } from 'react';

/**
 * A dropdown built on <details>/<summary>: opening and closing with Enter/Space works without script;
 * this adds closing on Escape, on a click outside, and after choosing an item.
 */
export function Menu({
  label,
  summaryLabel,
  align = 'left',
  children,
}: {
  label: React.ReactNode;
  summaryLabel: string;
  align?: 'left' | 'right';
  children: React.ReactNode;
}) {
  const ref = useRef<HTMLDetailsElement>(null);

  useEffect(() => {
    const details = ref.current;
    if (!details) return;
    const onPointer = (event: PointerEvent) => {
      if (details.open && !details.contains(event.target as Node)) details.open = false;
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && details.open) {
        details.open = false;
        details.querySelector('summary')?.focus();
      }
    };
    document.addEventListener('pointerdown', onPointer);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer);
      document.removeEventListener('keydown', onKey);
    };
  }, []);

  const closeAfterChoice = (event: React.MouseEvent) => {
    if ((event.target as HTMLElement).closest('a, button') && ref.current) ref.current.open = false;
  };

  return (
    <details className="menu" ref={ref}>
      <summary aria-label={summaryLabel}>{label}</summary>
      <div className={`menu-panel${align === 'right' ? ' menu-panel-right' : ''}`} onClick={closeAfterChoice}>
        {children}
      </div>
    </details>
  );
}
