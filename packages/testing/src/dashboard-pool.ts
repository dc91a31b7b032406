import { request } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { inject } from 'vitest';

/** What the pool (dashboard-pool-global-setup.ts) lends a test file: a dashboard and a Chromium of its own for now. */
export interface DashboardLease {
  slot: number;
  /** Origin of the dashboard, e.g. `http://127.0.0.1:41234`. */
  webUrl: string;
  /** Where playwright connects to the slot's Chromium. */
  browserWsEndpoint: string;
  /** How many log lines the dashboard had printed when it was lent: its log for this file starts there. */
  logFrom: number;
  /** The `next start` process (the pool's own test kills it to see it restarted). */
  webPid: number;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** The dashboard pool's control endpoint; absent where the project does not list its global setup. */
    dappleDashboardPool?: string;
  }
}

/** A dashboard and Chromium borrowed for one test file: route it to the file's hub, and give it back at the end. */
export interface BorrowedDashboard {
  webUrl: string;
  /** The `next start` process serving it. */
  webPid: number;
  browser: Browser;
  /** Sends the dashboard's API traffic to the hub on 127.0.0.1:`port` (ends its connections to any earlier hub). */
  route(port: number): Promise<void>;
  /** What `next start` printed since the dashboard was lent (render errors land here). */
  logs(): Promise<string>;
  /** Disconnects from Chromium (closing this file's contexts) and gives the dashboard back. */
  release(): Promise<void>;
}

/** The pool's control endpoint, or undefined when this project has no dashboard pool (files then start their own). */
export function dashboardPoolUrl(): string | undefined {
  return inject('dappleDashboardPool');
}

/**
 * Borrows a dashboard and Chromium from the pool at `poolUrl`. The dashboard proxies to no hub until `route` is
 * called: the hub must know the dashboard's origin (`webUrl`) before it starts.
 */
export async function borrowDashboard(poolUrl: string): Promise<BorrowedDashboard> {
  const lease = (await call(poolUrl, '/lease')) as DashboardLease;
  let browser: Browser;
  try {
    browser = await chromium.connect(lease.browserWsEndpoint);
  } catch (err) {
    await call(poolUrl, '/release', { slot: lease.slot }).catch(() => undefined);
    throw err;
  }
  return {
    webUrl: lease.webUrl,
    webPid: lease.webPid,
    browser,
    route: async (port) => void (await call(poolUrl, '/route', { slot: lease.slot, port })),
    logs: async () =>
      ((await call(poolUrl, '/logs', { slot: lease.slot, from: lease.logFrom })) as { text: string }).text,
    release: async () => {
      await browser.close().catch(() => undefined);
      await call(poolUrl, '/release', { slot: lease.slot });
    },
  };
}

// node:http rather than fetch: a lease may wait for the dashboard's first `next build`, longer than fetch's 5-minute
// headers timeout on a loaded machine (the hook's own timeout bounds it).
function call(poolUrl: string, path: string, body: Record<string, unknown> = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(`${poolUrl}${path}`, { method: 'POST' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`the dashboard pool failed ${path}: ${text}`));
        else resolve(JSON.parse(text) as unknown);
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
