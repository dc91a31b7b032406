// `npm run bench -w @dapple/server`: request throughput of the hub over real HTTP against an embedded
// Postgres. Prints one JSON line per case with its ratio to GET /healthz measured in the same run.
import { createHub } from '../src/index.ts';
import { freePort, startBenchDatabase } from './bench-database.ts';
import { benchDiskStore } from './bench-hub.ts';

const DURATION_MS = 3000;
const CONCURRENCY = 8;

async function measure(run: () => Promise<void>): Promise<number> {
  let count = 0;
  const end = Date.now() + DURATION_MS;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        await run();
        count++;
      }
    }),
  );
  return count / (DURATION_MS / 1000);
}

const db = await startBenchDatabase('graphql');
try {
  const port = await freePort();
  const store = benchDiskStore(db.root, port);
  const hub = await createHub({ databaseUrl: db.connectionString, store, port, logLevel: 'silent' });
  try {
    const post = (body: object, headers: Record<string, string> = {}) =>
      fetch(hub.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const signUp = await post({
      query: `mutation { signUp(input: { email: "bench@example.com", password: "bench-password", name: "Bench" }) { user { id } } }`,
    });
    const cookie = signUp.headers.getSetCookie()[0]!.split(';')[0]!;
    await post({ query: `mutation { createTeam(input: { name: "Bench", slug: "bench" }) { id } }` }, { cookie });
    const token = (
      (await (
        await post({ query: `mutation { createApiToken(input: { name: "bench" }) { secret } }` }, { cookie })
      ).json()) as {
        data: { createApiToken: { secret: string } };
      }
    ).data.createApiToken.secret;

    const cases: Record<string, () => Promise<void>> = {
      healthz: async () => void (await (await fetch(`${hub.url}/healthz`)).text()),
      me_api_token: async () =>
        void (await (await post({ query: '{ me { id name } }' }, { authorization: `Bearer ${token}` })).text()),
      me_session_cookie: async () => void (await (await post({ query: '{ me { id name } }' }, { cookie })).text()),
      me_teams_members: async () =>
        void (await (
          await post({ query: '{ me { teams { slug members { role user { name } } } } }' }, { cookie })
        ).text()),
    };
    const baseline = await measure(cases.healthz!);
    console.log(
      JSON.stringify({ bench: 'healthz', ops_per_s: Math.round(baseline), ratio: 1, concurrency: CONCURRENCY }),
    );
    for (const [name, run] of Object.entries(cases)) {
      if (name === 'healthz') continue;
      const ops = await measure(run);
      console.log(
        JSON.stringify({
          bench: name,
          ops_per_s: Math.round(ops),
          ratio: Math.round((ops / baseline) * 1000) / 1000,
          concurrency: CONCURRENCY,
        }),
      );
    }
    // Sign-in is deliberately slow (argon2id, ~19 MiB and 2 passes per attempt).
    const signIns = await measure(
      async () =>
        void (await (
          await post({
            query: `mutation { signIn(input: { email: "bench@example.com", password: "bench-password" }) { user { id } } }`,
          })
        ).text()),
    );
    console.log(
      JSON.stringify({
        bench: 'sign_in_argon2id',
        ops_per_s: Math.round(signIns),
        ratio: Math.round((signIns / baseline) * 1000) / 1000,
        concurrency: CONCURRENCY,
      }),
    );
  } finally {
    await hub.close();
  }
} finally {
  await db.close();
}
