import { defineObjectStoreContract } from './contract.ts';
import { startS3rver } from './fixtures.ts';

defineObjectStoreContract('S3Store on s3rver', async () => {
  const server = await startS3rver();
  const store = await server.createStore();
  return {
    store,
    capabilities: {
      verifiesSignatures: 's3rver 3.7.1 does not verify V4 signatures (covered on Ceph RGW and DiskStore)',
      fullMultipart:
        's3rver 3.7.1 lacks ListParts and AbortMultipartUpload and does not check part etags (covered on Ceph RGW)',
      listsInKeyOrder: 's3rver 3.7.1 lists in file-system order, not S3 key order (covered on Ceph RGW)',
      rangeEndingAtZero: "s3rver 3.7.1 reads 'bytes=0-0' as the whole object (covered on Ceph RGW)",
    },
    teardown: () => server.stop(),
  };
});
