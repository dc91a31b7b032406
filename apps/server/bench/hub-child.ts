// The hub of metrics-ingest.ts in a process of its own (`--hub child`, the default): in production the
// trainers are other processes, so their HTTP client's CPU is not the hub's. API-only: no scheduler, so
// nothing watches (or requeues) the simulated runs. Args: databaseUrl port storeRoot dbPoolSize.
import { DiskStore } from '@dapple/storage';
import { createHub } from '../src/index.ts';

const [databaseUrl, port, storeRoot, poolSize] = process.argv.slice(2);
const store = new DiskStore({
  root: storeRoot!,
  publicBaseUrl: `http://127.0.0.1:${port}`,
  signingSecret: 'x'.repeat(32),
});
const hub = await createHub({
  databaseUrl: databaseUrl!,
  store,
  port: Number(port),
  logLevel: 'silent',
  runs: { executor: false },
  dbPoolSize: Number(poolSize),
});
process.send!({ url: hub.url });
process.on('message', (msg) => {
  if (msg === 'close') void hub.close().then(() => process.exit(0));
});
process.on('disconnect', () => void hub.close().then(() => process.exit(0)));
