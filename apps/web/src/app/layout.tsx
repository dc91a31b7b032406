import type { Metadata, Viewport } from 'next';
import { headers } from 'next/headers';
import './globals.css';
// The components' CSS modules ship with the root layout too (about 10 KB), applied on every page. A <Link> prefetches
// a dynamic route down to its loading.tsx and Next preloads that segment's stylesheets: the model pages' skeletons
// pulled models.module.css into every page that links to the models, unused there, and Chromium warned "preloaded
// using link preload but not used within a few seconds" (vercel/next.js#51524). A stylesheet already applied is not
// preloaded again. A new *.module.css belongs in this list (e2e/preload-warnings.test.ts checks the main pages).
import '../components/charts/charts.module.css';
import '../components/datasets/datasets.module.css';
import '../components/models/models.module.css';
import '../components/runs/runs.module.css';

export const metadata: Metadata = {
  title: { default: 'Dapple', template: '%s · Dapple' },
  description: 'Train, compare and share your own diffusion image models.',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1 };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Every page renders per request: its scripts must carry that response's CSP nonce (src/proxy.ts), which a page
  // prerendered at build time could not.
  await headers();
  return (
    <html lang="en">
      <body>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        {children}
      </body>
    </html>
  );
}
