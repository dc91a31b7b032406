import { defineObjectStoreContract } from './contract.ts';
import { createExternalS3Store } from './fixtures.ts';
import { s3TestServerFromEnv } from './test-env.ts';

// A real S3 server: Ceph RGW in CI (scripts/ceph-rgw.sh), or any S3 named by S3_TEST_ENDPOINT.
defineObjectStoreContract('S3Store on S3_TEST_ENDPOINT (Ceph RGW)', async () => {
  const server = s3TestServerFromEnv();
  if ('skip' in server) return server;
  const fixture = await createExternalS3Store(server);
  return {
    store: fixture.store,
    capabilities: { verifiesSignatures: true, fullMultipart: true, listsInKeyOrder: true, rangeEndingAtZero: true },
    teardown: () => fixture.stop(),
  };
});
