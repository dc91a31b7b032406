// Runs one dataset.prepare in its own process, so datasets-crash.test.ts can SIGKILL it halfway.
// usage: tsx datasets-prepare-child.ts <databaseUrl> <diskStoreRoot> <versionId>
import { createDb } from '@dapple/db';
import { TEST_SECRET } from './support/hub.ts';
import { DiskStore } from '@dapple/storage';
import { resolveDatasetConfig } from '../src/services/datasets/config.ts';
import { createDatasetServices } from '../src/services/datasets/index.ts';
import { AccessEvents } from '../src/services/auth/index.ts';
import { createTeamServices } from '../src/services/teams/index.ts';
import { createLogger } from '../src/logger.ts';

const [databaseUrl, root, versionId] = process.argv.slice(2);
if (!databaseUrl || !root || !versionId)
  throw new Error('usage: datasets-prepare-child.ts <databaseUrl> <root> <versionId>');
const handle = createDb(databaseUrl, { max: 2, applicationName: 'dapple-prepare-child' });
const store = new DiskStore({ root, publicBaseUrl: 'http://127.0.0.1:1', signingSecret: TEST_SECRET });
const deps = { db: handle.db, pool: handle.pool, now: () => new Date() };
const noJobs = { send: async () => Promise.reject(new Error('this child process queues no jobs')) };
const { datasetPrepare } = createDatasetServices(
  { ...deps, store, jobs: noJobs, config: resolveDatasetConfig() },
  createTeamServices(deps, new AccessEvents(deps)).teams,
);
const outcome = await datasetPrepare.run(versionId, { logger: createLogger('silent'), finalAttempt: false });
process.stdout.write(`${outcome}\n`);
await handle.close();
