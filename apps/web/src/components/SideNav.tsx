'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useEffect, useRef } from 'react';

export interface NavItem {
  href: string;
  label: string;
  icon: React.ReactNode;
  /** Exact match only (e.g. a team's overview, whose path prefixes every other team page). */
  exact?: boolean;
  /** Shown but not yet navigable, with a short reason. */
  soon?: boolean;
}

export interface NavSection {
  label: string;
  items: NavItem[];
}

export function SideNav({ sections, label }: { sections: NavSection[]; label: string }) {
  const pathname = usePathname();
  const nav = useRef<HTMLElement>(null);
  // At phone width the nav is one scrolling row: keep the current page's tab in view.
  useEffect(() => {
    const list = nav.current;
    const current = list?.querySelector<HTMLElement>('[aria-current="page"]');
    if (!list || !current || list.scrollWidth <= list.clientWidth) return;
    list.scrollLeft = current.offsetLeft - (list.clientWidth - current.offsetWidth) / 2;
  }, [pathname]);
  return (
    <nav className="sidenav" aria-label={label} ref={nav}>
      {sections.map((section) => (
        <div className="sidenav-section" key={section.label}>
          <div className="sidenav-label">{section.label}</div>
          {section.items.map((item) => {
            const active = item.exact
              ? pathname === item.href
              : pathname === item.href || pathname.startsWith(`${item.href}/`);
            if (item.soon) {
              return (
                <a key={item.href} aria-disabled="true" title="Coming soon">
                  {item.icon}
                  {item.label}
                  <span className="badge" style={{ marginLeft: 'auto' }}>
                    Soon
                  </span>
                </a>
              );
            }
            return (
              <Link key={item.href} href={item.href} aria-current={active ? 'page' : undefined}>
                {item.icon}
                {item.label}
              </Link>
            );
          })}
        </div>
      ))}
    </nav>
  );
}
