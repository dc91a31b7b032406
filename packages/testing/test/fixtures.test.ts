import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { users } from '@dapple/db';
import { createTestDatabase, useTestDatabase } from '../src/index.ts';

const fileDb = await useTestDatabase();

describe('test databases', () => {
  it('are migrated clones of the template', async () => {
    const { rows } = await fileDb.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    expect((rows[0] as { n: number }).n).toBeGreaterThan(0);
    expect(await fileDb.db.select().from(users)).toEqual([]);
  });

  it('are isolated from each other and dropped on request', async () => {
    const other = await createTestDatabase();
    await other.db.insert(users).values({ email: 'iso@example.com', name: 'Iso', passwordHash: 'x' });
    expect(await fileDb.db.select().from(users)).toEqual([]);
    await other.drop();
    const { rows } = await fileDb.db.execute(sql`select 1 from pg_database where datname = ${other.name}`);
    expect(rows).toEqual([]);
  });
});
