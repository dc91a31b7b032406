import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { printSortedSchema } from '../src/graphql/schema/index.ts';

const committed = fileURLToPath(new URL('../schema.graphql', import.meta.url));

describe('schema.graphql', () => {
  it('matches the Pothos schema (run `npm run schema -w @dapple/server` and commit the file)', async () => {
    const onDisk = await readFile(committed, 'utf8');
    expect(
      onDisk === printSortedSchema(),
      'apps/server/schema.graphql is stale: run `npm run schema -w @dapple/server`',
    ).toBe(true);
  });

  it('keeps the operation names that clients depend on', () => {
    const sdl = printSortedSchema();
    for (const name of [
      'signUp',
      'signIn',
      'signOut',
      'me',
      'createTeam',
      'team',
      'inviteMember',
      'acceptInvite',
      'setMemberRole',
      'removeMember',
      'createApiToken',
      'revokeApiToken',
      'teamMembersChanged',
    ]) {
      expect(sdl).toMatch(new RegExp(`\\n  ${name}[(:]`));
    }
  });
});
