import { defineObjectStoreContract } from './contract.ts';
import { startDiskStore } from './fixtures.ts';

// DiskStore with its signed URLs served by createSignedObjectHandler on a real HTTP server.
defineObjectStoreContract('DiskStore (hub-signed URLs over HTTP)', async () => {
  const fixture = await startDiskStore();
  return {
    store: fixture.store,
    capabilities: { verifiesSignatures: true, fullMultipart: true, listsInKeyOrder: true, rangeEndingAtZero: true },
    teardown: () => fixture.stop(),
  };
});
