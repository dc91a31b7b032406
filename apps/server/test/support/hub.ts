import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '@dapple/db';
import { DiskStore, type ObjectStore } from '@dapple/storage';
import { createTestDatabase, freePort, type TestDatabase } from '@dapple/testing';
import { createHub, type Hub, type HubConfig } from '../../src/index.ts';

export interface TestHub {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  graphqlUrl: string;
  /** ws://.../graphql for graphql-ws clients. */
  wsUrl: string;
  db: Db;
  store: ObjectStore;
  hub: Hub;
  /** Stops the hub (see Hub.close), then drops its database and store directory when this fixture created them. */
  close(opts?: Parameters<Hub['close']>[0]): Promise<void>;
}

export const TEST_SECRET = 'dapple-test-secret-0123456789abcdef0123456789';

/**
 * An in-process hub on a random port over real HTTP. Defaults: a fresh database cloned from the
 * migrated template (needs the postgres global setup), a DiskStore in a temp dir, silent logs, and open sign-up
 * (tests make many users; the invite mode's own tests pass `auth: { signUp: 'invite' }`).
 * Anything in `overrides` replaces the default (a given `databaseUrl` or `store` is not cleaned up).
 */
export async function startTestHub(overrides: Partial<HubConfig> = {}): Promise<TestHub> {
  const port = overrides.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let database: TestDatabase | undefined;
  let storeDir: string | undefined;
  const cleanup = async () => {
    await database?.drop();
    if (storeDir) await rm(storeDir, { recursive: true, force: true });
  };
  try {
    if (!overrides.databaseUrl) database = await createTestDatabase();
    let store = overrides.store;
    if (!store) {
      storeDir = await mkdtemp(join(tmpdir(), 'dapple-test-store-'));
      await chmod(storeDir, 0o700);
      store = new DiskStore({ root: storeDir, publicBaseUrl: url, signingSecret: TEST_SECRET });
    }
    const hub = await createHub({
      logLevel: 'silent',
      ...overrides,
      auth: { signUp: 'open', ...overrides.auth },
      port,
      host: '127.0.0.1',
      databaseUrl: overrides.databaseUrl ?? database!.connectionString,
      store,
    });
    return {
      url: hub.url,
      graphqlUrl: hub.graphqlUrl,
      wsUrl: hub.graphqlUrl.replace(/^http/, 'ws'),
      db: hub.db,
      store,
      hub,
      close: async (opts) => {
        await hub.close(opts);
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
