import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { createDb, type Db } from '@dapple/db';

export const TEMPLATE_DATABASE = 'dapple_template';

/** What the global setup hands to workers. */
export interface TestPostgres {
  /** Connection string of the cluster's `postgres` database (used to create and drop databases). */
  adminUrl: string;
  /** The migrated template database that test databases are cloned from. */
  template: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    dapplePostgres: TestPostgres;
  }
}

export interface TestDatabase {
  name: string;
  connectionString: string;
  db: Db;
  pool: pg.Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

function testPostgres(): TestPostgres {
  const info = inject('dapplePostgres');
  if (!info) {
    throw new Error(
      "No test Postgres: add globalSetup: ['@dapple/testing/postgres-global-setup'] to this project's vitest.config.ts",
    );
  }
  return info;
}

function withDatabase(connectionString: string, database: string): string {
  const url = new URL(connectionString);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testPostgres().adminUrl });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database cloned from the template (`CREATE DATABASE ... TEMPLATE`, ~tens of ms). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const { adminUrl, template } = testPostgres();
  const name = `test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const connectionString = withDatabase(adminUrl, name);
  const handle = createDb(connectionString, { max: 5, applicationName: 'dapple-test' });
  let dropped: Promise<void> | undefined;
  return {
    name,
    connectionString,
    db: handle.db,
    pool: handle.pool,
    drop: () =>
      (dropped ??= (async () => {
        await handle.close();
        await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      })()),
  };
}

/**
 * A fresh database for this test file, dropped after its last test. Call it at the top level of the
 * file: `const testDb = await useTestDatabase();`
 */
export async function useTestDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  afterAll(() => database.drop());
  return database;
}
