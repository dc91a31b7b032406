import { join } from 'node:path';
import { DiskStore } from '@dapple/storage';

// What the hub benches share besides their database (bench-database.ts): the object store the in-process hub
// serves, and a GraphQL request over real HTTP.

/** A DiskStore under `root`/objects whose URLs the hub on `port` serves. */
export function benchDiskStore(root: string, port: number): DiskStore {
  return new DiskStore({
    root: join(root, 'objects'),
    publicBaseUrl: `http://127.0.0.1:${port}`,
    signingSecret: 'x'.repeat(32),
  });
}

/** POSTs one operation (as the user of `cookie`, if given); throws the first GraphQL error. */
export async function postGraphql<T>(
  graphqlUrl: string,
  query: string,
  variables: object,
  cookie?: string,
): Promise<{ data: T; res: Response }> {
  const res = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors) throw new Error(body.errors[0]!.message);
  return { data: body.data!, res };
}
