import { z } from 'zod';

// The one place the storage tests read the environment: where a real S3 server (Ceph RGW in CI) is.
const schema = z.object({
  S3_TEST_ENDPOINT: z.url().optional(),
  S3_TEST_ACCESS_KEY: z.string().min(1).optional(),
  S3_TEST_SECRET_KEY: z.string().min(1).optional(),
});

export interface S3TestServer {
  endpoint: string;
  accessKey: string;
  secretKey: string;
}

/** The external S3 server to test against, or a reason why there is none. */
export function s3TestServerFromEnv(env: NodeJS.ProcessEnv = process.env): S3TestServer | { skip: string } {
  const parsed = schema.parse({
    S3_TEST_ENDPOINT: env.S3_TEST_ENDPOINT || undefined,
    S3_TEST_ACCESS_KEY: env.S3_TEST_ACCESS_KEY || undefined,
    S3_TEST_SECRET_KEY: env.S3_TEST_SECRET_KEY || undefined,
  });
  if (!parsed.S3_TEST_ENDPOINT) {
    return { skip: 'S3_TEST_ENDPOINT is not set (start one with: eval "$(scripts/ceph-rgw.sh start /tmp/ceph)")' };
  }
  if (!parsed.S3_TEST_ACCESS_KEY || !parsed.S3_TEST_SECRET_KEY) {
    throw new Error('S3_TEST_ENDPOINT is set but S3_TEST_ACCESS_KEY or S3_TEST_SECRET_KEY is missing');
  }
  return {
    endpoint: parsed.S3_TEST_ENDPOINT,
    accessKey: parsed.S3_TEST_ACCESS_KEY,
    secretKey: parsed.S3_TEST_SECRET_KEY,
  };
}
