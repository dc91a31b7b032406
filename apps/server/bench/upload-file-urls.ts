// What it costs on S3 that every upload file is a multipart upload (so its URL dies with the upload), against the
// plain presigned PUT it replaced: createUpload, the PUTs and completeUpload of N small files, both ways, on one
// real S3 server, alternating, in one run.
//
//   eval "$(scripts/ceph-rgw.sh start /tmp/ceph)"   # or any S3 in S3_TEST_ENDPOINT / _ACCESS_KEY / _SECRET_KEY
//   npx tsx apps/server/bench/upload-file-urls.ts [--files 100,1000] [--rounds 3]
//
// Prints one JSON line per case (median over the rounds) with `ratio`: one-part multipart time / plain PUT time.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { ObjectStore } from '@dapple/storage';
import { createExternalS3Store, s3TestServerFromEnv } from '@dapple/storage/testing';
import { createHub, type Hub } from '../src/index.ts';
import { freePort, startBenchDatabase } from './bench-database.ts';
import { postGraphql } from './bench-hub.ts';

const { values } = parseArgs({
  options: { files: { type: 'string', default: '100,1000' }, rounds: { type: 'string', default: '3' } },
});
const counts = values.files.split(',').map(Number);
const rounds = Number(values.rounds);
const server = s3TestServerFromEnv();
if ('skip' in server) throw new Error(server.skip);

/** The same S3 store, reporting itself as a disk store: the hub then hands out plain presigned PUTs (the old way). */
function asPlainPutStore(store: ObjectStore): ObjectStore {
  return new Proxy(store, {
    get: (target, key): unknown => (key === 'kind' ? 'disk' : Reflect.get(target, key)),
  });
}

const db = await startBenchDatabase('upload-file-urls');
const fixture = await createExternalS3Store(server);
const hubs: Record<'multipart' | 'plain', Hub> = {
  multipart: await createHub({
    databaseUrl: db.connectionString,
    store: fixture.store,
    port: await freePort(),
    logLevel: 'silent',
    jobs: { workers: false },
  }),
  plain: await createHub({
    databaseUrl: db.connectionString,
    store: asPlainPutStore(fixture.store),
    port: await freePort(),
    logLevel: 'silent',
    jobs: { workers: false },
  }),
};

const gql = <T>(hub: Hub, query: string, variables: object, cookie?: string) =>
  postGraphql<T>(hub.graphqlUrl, query, variables, cookie);

async function limited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

type Target = { url: string; method: string; headers: { name: string; value: string }[] };
const body = Buffer.alloc(1024, 7);

try {
  const signUp = await gql(
    hubs.multipart,
    `mutation { signUp(input: { email: "bench@example.com", password: "bench-password", name: "Bench" }) { user { id } } }`,
    {},
  );
  const cookie = signUp.res.headers.getSetCookie()[0]!.split(';')[0]!;
  const team = await gql<{ createTeam: { id: string } }>(
    hubs.multipart,
    `mutation { createTeam(input: { name: "Bench", slug: "bench" }) { id } }`,
    {},
    cookie,
  );
  const dataset = await gql<{ createDataset: { id: string } }>(
    hubs.multipart,
    `mutation ($i: CreateDatasetInput!) { createDataset(input: $i) { id } }`,
    { i: { teamId: team.data.createTeam.id, name: 'bench', resolution: 16, channels: 3 } },
    cookie,
  );
  const datasetId = dataset.data.createDataset.id;

  for (const n of counts) {
    const times: Record<'multipart' | 'plain', { create: number; put: number; complete: number }[]> = {
      multipart: [],
      plain: [],
    };
    for (let round = 0; round < rounds; round++) {
      for (const scheme of round % 2 === 0 ? (['plain', 'multipart'] as const) : (['multipart', 'plain'] as const)) {
        const hub = hubs[scheme];
        const files = Array.from({ length: n }, (_, i) => ({
          path: `bench/${i}.png`,
          size: body.length,
          contentType: 'image/png',
        }));
        let t = performance.now();
        const created = await gql<{ createUpload: { id: string; files: { parts: Target[] }[] } }>(
          hub,
          `mutation ($i: CreateUploadInput!) { createUpload(input: $i) { id files { parts { url method headers { name value } } } } }`,
          { i: { datasetId, files } },
          cookie,
        );
        const create = performance.now() - t;
        t = performance.now();
        await limited(created.data.createUpload.files, 16, async (file) => {
          const target = file.parts[0]!;
          const res = await fetch(target.url, {
            method: target.method,
            headers: Object.fromEntries(target.headers.map((h) => [h.name, h.value])),
            body,
          });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`PUT answered ${res.status}`);
        });
        const put = performance.now() - t;
        t = performance.now();
        await gql(
          hub,
          `mutation ($id: ID!) { completeUpload(uploadId: $id) { upload { id } } }`,
          { id: created.data.createUpload.id },
          cookie,
        );
        times[scheme].push({ create, put, complete: performance.now() - t });
      }
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const summary = (scheme: 'multipart' | 'plain') => {
      const rows = times[scheme];
      const create = median(rows.map((r) => r.create));
      const put = median(rows.map((r) => r.put));
      const complete = median(rows.map((r) => r.complete));
      const total = median(rows.map((r) => r.create + r.put + r.complete));
      return {
        createMs: Math.round(create),
        putMs: Math.round(put),
        completeMs: Math.round(complete),
        totalMs: Math.round(total),
      };
    };
    const plain = summary('plain');
    const multipart = summary('multipart');
    console.log(
      JSON.stringify({
        bench: 'upload-file-urls',
        store: `S3 at ${server.endpoint}`,
        files: n,
        fileBytes: body.length,
        rounds,
        plainPut: plain,
        onePartMultipart: multipart,
        ratio: Number((multipart.totalMs / plain.totalMs).toFixed(2)),
        loadavg1: Number(loadavg()[0]!.toFixed(1)),
      }),
    );
  }
} finally {
  await hubs.multipart.close();
  await hubs.plain.close();
  await fixture.stop();
  await db.close();
}
