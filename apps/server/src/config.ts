import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createObjectStore, parseS3Endpoint, type ObjectStore } from '@dapple/storage';
import type { Env } from './env.ts';
import { KubernetesExecutor, loadKubeConfig } from './executors/kubernetes.ts';
import { LocalExecutor } from './executors/local.ts';
import type { DatasetConfigInput } from './services/datasets/index.ts';
import type { HubConfig } from './hub.ts';
import { evaluationConfigFromEnv, samplingConfigFromEnv } from './sampling-config.ts';

export const SECRET_FILE = 'secret';

/**
 * DAPPLE_SECRET, or one generated on first start and kept in `<DAPPLE_DATA_DIR>/secret` (mode 600), so
 * signed URLs and sessions survive restarts without anyone having to set it.
 */
export async function loadOrCreateSecret(env: Env): Promise<string> {
  if (env.DAPPLE_SECRET) return env.DAPPLE_SECRET;
  const dir = resolve(env.DAPPLE_DATA_DIR);
  const file = join(dir, SECRET_FILE);
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The URL the hub is reached at: PUBLIC_URL, else http://HOST:PORT (HOST 0.0.0.0 → localhost). */
export function publicUrlFromEnv(env: Env): string {
  if (env.PUBLIC_URL) return env.PUBLIC_URL.replace(/\/+$/, '');
  const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? 'localhost' : env.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${env.PORT}`;
}

/** S3Store when all S3_* variables are set, else a DiskStore under `<DAPPLE_DATA_DIR>/objects` with hub-signed URLs. */
export function objectStoreFromEnv(env: Env, secret: string): ObjectStore {
  if (env.S3_ENDPOINT && env.S3_ACCESS_KEY && env.S3_SECRET_KEY && env.S3_BUCKET) {
    return createObjectStore({
      kind: 's3',
      ...parseS3Endpoint(env.S3_ENDPOINT),
      accessKey: env.S3_ACCESS_KEY,
      secretKey: env.S3_SECRET_KEY,
      bucket: env.S3_BUCKET,
      ...(env.S3_REGION ? { region: env.S3_REGION } : {}),
    });
  }
  return createObjectStore({
    kind: 'disk',
    root: join(resolve(env.DAPPLE_DATA_DIR), 'objects'),
    publicBaseUrl: publicUrlFromEnv(env),
    signingSecret: secret,
  });
}

/**
 * HubConfig from the environment. `databaseUrl` is DATABASE_URL unless given (start.ts passes the
 * embedded Postgres URL when DATABASE_URL is unset); `store` defaults to objectStoreFromEnv.
 */
export async function hubConfigFromEnv(
  env: Env,
  parts: { databaseUrl?: string; store?: ObjectStore } = {},
): Promise<HubConfig> {
  const databaseUrl = parts.databaseUrl ?? env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is not set and no embedded database URL was given');
  const secret = await loadOrCreateSecret(env);
  const store = parts.store ?? objectStoreFromEnv(env, secret);
  return {
    databaseUrl,
    store,
    port: env.PORT,
    host: env.HOST,
    publicUrl: publicUrlFromEnv(env),
    logLevel: env.LOG_LEVEL,
    trustProxy: trustedProxiesFromEnv(env),
    auth: { signUp: env.DAPPLE_SIGNUP },
    limits: { introspection: env.DAPPLE_GRAPHQL_INTROSPECTION },
    datasets: datasetConfigFromEnv(env),
    webhooks: { secret, allowPrivateTargets: env.DAPPLE_WEBHOOK_ALLOW_PRIVATE },
    sampling: samplingConfigFromEnv(env),
    evaluation: evaluationConfigFromEnv(env),
    runs: {
      // Trainer output survives hub restarts here (a tmpdir would not survive a reboot).
      logDir: join(resolve(env.DAPPLE_DATA_DIR), 'run-logs'),
      ...(env.DAPPLE_EXECUTOR === 'kubernetes'
        ? { executor: kubernetesExecutorFromEnv(env) }
        : env.DAPPLE_CPU_SLOTS !== undefined
          ? {
              executor: new LocalExecutor({
                logDir: join(resolve(env.DAPPLE_DATA_DIR), 'run-logs'),
                cpuSlots: env.DAPPLE_CPU_SLOTS,
              }),
            }
          : {}),
    },
  };
}

/** DAPPLE_EXECUTOR=kubernetes: one Job per run in K8S_NAMESPACE, from K8S_TRAINER_IMAGE, with K8S_GPUS_PER_RUN GPUs. */
export function kubernetesExecutorFromEnv(env: Env): KubernetesExecutor {
  return new KubernetesExecutor({
    kubeConfig: loadKubeConfig(env.K8S_CONFIG),
    namespace: env.K8S_NAMESPACE,
    image: env.K8S_TRAINER_IMAGE!,
    gpusPerRun: env.K8S_GPUS_PER_RUN,
    maxConcurrentRuns: env.K8S_MAX_CONCURRENT_RUNS,
    terminationGracePeriodSeconds: env.K8S_GRACE_SECONDS,
    ttlSecondsAfterFinished: 3600,
  });
}

/**
 * DAPPLE_TRUSTED_PROXIES (default `loopback`: the dashboard's proxy on this machine): `none` → nobody (the socket
 * address is the client); otherwise the listed addresses / CIDR ranges (express `trust proxy` names such as
 * `loopback` or `uniquelocal` also work). X-Forwarded-For from anyone else is ignored.
 */
export function trustedProxiesFromEnv(env: Env): false | string[] {
  const raw = env.DAPPLE_TRUSTED_PROXIES;
  if (raw.trim().toLowerCase() === 'none') return false;
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** DATASET_* variables onto the dataset limits; unset ones keep their defaults. */
export function datasetConfigFromEnv(env: Env): DatasetConfigInput {
  const defined = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    upload: defined({
      maxFilesPerUpload: env.DATASET_MAX_FILES_PER_UPLOAD,
      maxFileBytes: env.DATASET_MAX_FILE_BYTES,
      maxArchiveBytes: env.DATASET_MAX_ARCHIVE_BYTES,
      maxUploadBytes: env.DATASET_MAX_UPLOAD_BYTES,
      multipartThresholdBytes: env.DATASET_MULTIPART_THRESHOLD_BYTES,
      partBytes: env.DATASET_PART_BYTES,
    }),
    prepare: defined({
      maxFileBytes: env.DATASET_MAX_FILE_BYTES,
      maxArchiveExpandedBytes: env.DATASET_MAX_ARCHIVE_EXPANDED_BYTES,
      maxEntries: env.DATASET_MAX_ARCHIVE_ENTRIES,
      maxCompressionRatio: env.DATASET_MAX_COMPRESSION_RATIO,
      maxImagePixels: env.DATASET_MAX_IMAGE_PIXELS,
    }),
  };
}
