import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestProject } from 'vitest/node';
import setupPool from '../src/dashboard-pool-global-setup.ts';
import { borrowDashboard } from '../src/dashboard-pool.ts';

// The pool the browser tests borrow dashboards from (apps/web/vitest.config.ts lists its global setup), run here by
// hand: a dashboard reaches whichever API its borrower routed it to, and one that died is started again for the next
// borrower instead of failing every file after the one that crashed it.
describe('dashboard pool', () => {
  let poolUrl = '';
  let teardown: (() => Promise<void>) | undefined;
  const apis: Server[] = [];

  /** An API stand-in that answers every request with its name. */
  async function api(name: string): Promise<number> {
    const server = createServer((_req, res) => res.end(JSON.stringify({ api: name })));
    apis.push(server);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return (server.address() as AddressInfo).port;
  }
  const healthz = async (webUrl: string) => {
    const res = await fetch(`${webUrl}/healthz`);
    return res.ok ? ((await res.json()) as { api: string }).api : `HTTP ${res.status}`;
  };

  beforeAll(async () => {
    const project = { provide: (_key: string, value: string) => (poolUrl = value) };
    teardown = await setupPool(project as unknown as TestProject);
  });
  afterAll(async () => {
    await teardown?.();
    for (const server of apis) {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
  });

  it("routes a borrowed dashboard to the borrower's API, and a dashboard that died is started again", async () => {
    const [a, b] = [await api('a'), await api('b')];
    const first = await borrowDashboard(poolUrl);
    await first.route(a);
    expect(await healthz(first.webUrl)).toBe('a');
    expect((await first.browser.newContext()).pages()).toEqual([]);
    // The next file's hub, asked for at once (a file's first request follows its route change immediately): the
    // dashboard's kept-alive connections now lead to it. Back and forth, as a CI run once caught a 500 here.
    for (let i = 0; i < 10; i++) {
      await first.route(b);
      expect(await healthz(first.webUrl)).toBe('b');
      await first.route(a);
      expect(await healthz(first.webUrl)).toBe('a');
    }
    await first.route(b);
    expect(await healthz(first.webUrl)).toBe('b');
    await first.release();
    // Given back, it reaches no API at all (no request can land on a stopped file's hub).
    expect(await healthz(first.webUrl)).toMatch(/^HTTP 5/);

    process.kill(-first.webPid, 'SIGKILL');
    await expect.poll(() => healthz(first.webUrl).catch(() => 'down')).toBe('down');
    const second = await borrowDashboard(poolUrl);
    try {
      expect(second.webPid).not.toBe(first.webPid);
      await second.route(a);
      expect(await healthz(second.webUrl)).toBe('a');
      expect(await second.logs()).toContain('the dashboard had exited or stopped answering: starting it again');
    } finally {
      await second.release();
    }
  }, 600_000);
});
