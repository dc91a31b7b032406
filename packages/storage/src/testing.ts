// Test fixtures for other packages (packages/testing, apps): `import { startDiskStore } from '@dapple/storage/testing'`.
export {
  startDiskStore,
  startS3rver,
  createExternalS3Store,
  uniqueBucketName,
  type DiskStoreFixture,
  type S3rverFixture,
  type ExternalS3Fixture,
} from '../test/fixtures.ts';
export { s3TestServerFromEnv, type S3TestServer } from '../test/test-env.ts';
