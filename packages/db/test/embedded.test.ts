import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, migrate, users } from '../src/index.ts';
import { startEmbeddedPostgres } from '../src/embedded.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

describe('embedded Postgres + migrations', () => {
  let root = '';
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('initialises once, migrates, enforces case-insensitive emails, and keeps data across restarts', async () => {
    root = await mkdtemp(join(tmpdir(), 'dapple-db-'));
    // The postgres system user must be able to traverse into the data dir.
    await chmod(root, 0o755);
    const dataDir = join(root, 'pg');

    const first = await startEmbeddedPostgres({ dataDir, port: await freePort() });
    const a = createDb(first.connectionString);
    try {
      await migrate(a.db);
      await migrate(a.db); // idempotent
      await a.db.insert(users).values({ email: 'Ann@Example.com', name: 'Ann', passwordHash: 'x' });
      await expect(
        a.db.insert(users).values({ email: 'ann@example.COM', name: 'Other', passwordHash: 'y' }),
      ).rejects.toMatchObject({ cause: { code: '23505' } });
    } finally {
      await a.close();
      await first.stop();
    }

    const second = await startEmbeddedPostgres({ dataDir, port: await freePort() });
    const b = createDb(second.connectionString);
    try {
      const rows = await b.db.select({ name: users.name }).from(users);
      expect(rows).toEqual([{ name: 'Ann' }]);
      const [row] = (await b.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`)).rows as {
        n: number;
      }[];
      expect(row?.n).toBeGreaterThan(0);

      // A checked-out client whose connection Postgres ends between two queries must not stop the process (an
      // 'error' event with no listener throws): its next query rejects instead, and the pool carries on.
      const held = await b.pool.connect();
      expect(held.listenerCount('error')).toBeGreaterThan(0);
      const pid = ((await held.query('select pg_backend_pid() as pid')).rows[0] as { pid: number }).pid;
      const ended = new Promise((resolve) => held.once('end', resolve));
      await b.pool.query('select pg_terminate_backend($1)', [pid]);
      await ended;
      const err = await held.query('select 1').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      held.release(err as Error);
      expect((await b.pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await b.close();
      await second.stop();
    }
  }, 60_000);
});
