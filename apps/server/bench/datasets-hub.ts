// The hub of bench/datasets.ts in its own process, so its RSS is the server's alone. Reports peak RSS
// over IPC: { type: 'ready', url } once listening; answers 'peak' with { type: 'peak', rssMb } and resets.
// usage: tsx bench/datasets-hub.ts <databaseUrl> <storeRoot> <port> [<S3StoreConfig as JSON>]
import { DiskStore, S3Store, type ObjectStore, type S3StoreConfig } from '@dapple/storage';
import { createHub } from '../src/index.ts';

const [databaseUrl, root, portArg, s3Json] = process.argv.slice(2);
if (!databaseUrl || !root || !portArg)
  throw new Error('usage: datasets-hub.ts <databaseUrl> <storeRoot> <port> [<s3 config json>]');
const port = Number(portArg);
const store: ObjectStore = s3Json
  ? new S3Store(JSON.parse(s3Json) as S3StoreConfig)
  : new DiskStore({ root, publicBaseUrl: `http://127.0.0.1:${port}`, signingSecret: 'bench-secret-'.repeat(4) });
const hub = await createHub({
  databaseUrl,
  store,
  port,
  logLevel: 'silent',
  jobs: { pollingIntervalSeconds: 0.5 },
  datasets: { upload: { maxArchiveBytes: 16 * 1024 ** 3, maxUploadBytes: 16 * 1024 ** 3 } },
});
let peak = process.memoryUsage.rss();
setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 25).unref();
process.on('message', (message) => {
  if (message === 'peak') {
    process.send!({ type: 'peak', rssMb: Math.round(peak / 1024 / 1024) });
    peak = process.memoryUsage.rss();
  }
  if (message === 'stop') void hub.close().then(() => process.exit(0));
});
process.send!({ type: 'ready', url: hub.url });
