import { KeyIcon } from '../../../components/Icons';
import { SideNav } from '../../../components/SideNav';

export default function SettingsLayout({ children }: { children: React.ReactNode }) {
  return (
    <div className="shell">
      <SideNav
        label="Settings"
        sections={[{ label: 'Account', items: [{ href: '/settings/tokens', label: 'API tokens', icon: <KeyIcon /> }] }]}
      />
      <main id="main" className="main">
        {children}
      </main>
    </div>
  );
}
