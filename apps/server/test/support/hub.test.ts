import { describe, expect, it } from 'vitest';
import { users } from '@dapple/db';
import { gqlClient } from '@dapple/testing';
import { startTestHub } from './hub.ts';

describe('startTestHub + gqlClient', () => {
  it('serves GraphQL over HTTP and keeps the session cookie', async () => {
    const hub = await startTestHub();
    try {
      const client = gqlClient(hub.graphqlUrl);
      await client.request(
        `mutation { signUp(input: { email: "f@example.com", password: "fixture-pass", name: "F" }) { user { id } } }`,
      );
      expect(client.cookies.get('dapple_session')).toBeTruthy();
      const me = await client.request(`{ me { name } }`);
      expect(me.data?.me.name).toBe('F');
      expect(await hub.db.select({ name: users.name }).from(users)).toEqual([{ name: 'F' }]);
    } finally {
      await hub.close();
    }
  });
});
