import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { createDb, migrate, type DbHandle } from '@dapple/db';
import { startEmbeddedPostgres } from '@dapple/db/embedded';
import { createHub } from '@dapple/server';
import { DiskStore } from '@dapple/storage';
import { freePort, gqlClient, type GqlClient } from '@dapple/testing';
import { launchBrowser, newContext } from '@dapple/testing/browser';
import { startWeb, type WebServer } from '@dapple/testing/web';

// What the dashboard benches share: a hub on an embedded Postgres in a temp folder (no trainer, no jobs, objects
// addressed through the dashboard's origin as in production), the user "Bench" with the team "bench", and later
// the production dashboard with Chromium signed in as that user.

const SECRET = 'bench-secret-bench-secret-bench-secret';

export interface BenchHub {
  /** The temp folder everything lives in (removed by close()); benches may put their own files there. */
  root: string;
  /** A direct database connection, for setting up state the bench is not about. */
  direct: DbHandle;
  hub: Awaited<ReturnType<typeof createHub>>;
  store: DiskStore;
  /** The hub's GraphQL API, signed in as the bench user. */
  api: GqlClient;
  userId: string;
  teamId: string;
  /** Builds (when stale) and starts the dashboard, then opens a Chromium context signed in on it. */
  openDashboard(options: { timeoutMs: number }): Promise<{ web: WebServer; context: BrowserContext }>;
  /** Stops what was started, last first; a failing step is reported and the rest still run. */
  close(): Promise<void>;
}

export async function startBenchHub(name: string, options: { poolMax: number }): Promise<BenchHub> {
  const root = await mkdtemp(join(tmpdir(), `dapple-bench-${name}-`));
  await chmod(root, 0o755);
  const cleanups: (() => Promise<unknown>)[] = [() => rm(root, { recursive: true, force: true })];
  const close = async () => {
    for (const cleanup of cleanups.splice(0))
      await cleanup().catch((err: unknown) => process.stderr.write(`cleanup: ${String(err)}\n`));
  };
  try {
    const pgServer = await startEmbeddedPostgres({ dataDir: join(root, 'pg'), port: await freePort() });
    cleanups.unshift(() => pgServer.stop());
    const direct = createDb(pgServer.connectionString, { max: options.poolMax });
    cleanups.unshift(async () => direct.close());
    await migrate(direct.db);
    const webPort = await freePort();
    const webUrl = `http://127.0.0.1:${webPort}`;
    const store = new DiskStore({ root: join(root, 'store'), publicBaseUrl: webUrl, signingSecret: SECRET });
    const hub = await createHub({
      databaseUrl: pgServer.connectionString,
      store,
      port: await freePort(),
      logLevel: 'silent',
      allowedOrigins: [webUrl],
      runs: { executor: false },
      jobs: { workers: false },
    });
    cleanups.unshift(() => hub.close());

    const api = gqlClient(`${hub.url}/graphql`);
    const signUp = await api.request<{ signUp: { user: { id: string } } }>(
      `mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`,
      { input: { name: 'Bench', email: 'bench@example.com', password: 'bench-password-long-enough' } },
    );
    if (signUp.errors) throw new Error(JSON.stringify(signUp.errors));
    const team = await api.request<{ createTeam: { id: string } }>(
      `mutation { createTeam(input: { name: "Bench", slug: "bench" }) { id } }`,
    );
    if (team.errors) throw new Error(JSON.stringify(team.errors));

    return {
      root,
      direct,
      hub,
      store,
      api,
      userId: signUp.data!.signUp.user.id,
      teamId: team.data!.createTeam.id,
      async openDashboard({ timeoutMs }) {
        process.stderr.write('building and starting the dashboard…\n');
        const web = await startWeb({ apiUrl: hub.url, port: webPort });
        cleanups.unshift(() => web.close());
        const browser = await launchBrowser();
        cleanups.unshift(() => browser.close());
        const context = await newContext(browser, web.url);
        context.setDefaultTimeout(timeoutMs);
        await context.addCookies([
          { name: 'dapple_session', value: api.cookies.get('dapple_session')!, url: web.url, httpOnly: true },
        ]);
        return { web, context };
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
