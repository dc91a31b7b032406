/**
 * vitest `globalSetup`: one embedded Postgres per test run (shared by every project that lists this file), with a
 * template database migrated once. Test files clone it with `useTestDatabase()` (database.ts).
 *
 *   // vitest.config.ts
 *   test: { globalSetup: ['@dapple/testing/postgres-global-setup'] }
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDb, migrate } from '@dapple/db';
import { startEmbeddedPostgres } from '@dapple/db/embedded';
import type { TestProject } from 'vitest/node';
import { TEMPLATE_DATABASE, type TestPostgres } from './database.ts';
import { freePort } from './ports.ts';

interface SharedPostgres {
  started: Promise<{ info: TestPostgres; stop(): Promise<void> }>;
  users: number;
}
// vitest runs each project's global setups one after another in its own process, before any test file: six projects
// list this file, and each starting its own Postgres (initdb, start, migrate) kept one core busy for ~30 s while the
// other waited. They share one server instead (each test file still clones its own database from the template).
const SHARED = Symbol.for('dapple.testPostgres');
const registry = globalThis as { [SHARED]?: SharedPostgres };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = (registry[SHARED] ??= { started: startPostgres(), users: 0 });
  shared.users++;
  let started;
  try {
    started = await shared.started;
  } catch (err) {
    if (--shared.users === 0 && registry[SHARED] === shared) delete registry[SHARED];
    throw err;
  }
  project.provide('dapplePostgres', started.info);
  // The last project to tear down stops it.
  return async () => {
    if (--shared.users > 0) return;
    if (registry[SHARED] === shared) delete registry[SHARED];
    await started.stop();
  };
}

async function startPostgres(): Promise<{ info: TestPostgres; stop(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'dapple-test-pg-'));
  // Postgres runs as the `postgres` system user (we are root): it must be able to enter the directory.
  await chmod(root, 0o755);
  const port = await freePort();
  const server = await startEmbeddedPostgres({ dataDir: join(root, 'data'), port });
  try {
    const admin = new pg.Client({ connectionString: server.connectionString });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
    } finally {
      await admin.end();
    }
    const templateUrl = withDatabase(server.connectionString, TEMPLATE_DATABASE);
    const template = createDb(templateUrl, { max: 1 });
    try {
      await migrate(template.db);
    } finally {
      // CREATE DATABASE ... TEMPLATE needs the template to have no connections.
      await template.close();
    }
  } catch (err) {
    await server.stop();
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  return {
    info: { adminUrl: server.connectionString, template: TEMPLATE_DATABASE },
    async stop() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

function withDatabase(connectionString: string, database: string): string {
  const url = new URL(connectionString);
  url.pathname = `/${database}`;
  return url.toString();
}
