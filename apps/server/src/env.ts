import { isIP } from 'node:net';
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const optionalPositiveInt = optionalString.pipe(
  z
    .string()
    .regex(/^[1-9]\d*$/, 'must be a positive whole number')
    .transform(Number)
    .optional(),
);

/** `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`; unset or empty: undefined (the default applies). */
const optionalFlag = optionalString.pipe(
  z
    .enum(['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off'], {
      error: 'must be 1 or 0 (true/false, yes/no, on/off)',
    })
    .transform((v) => ['1', 'true', 'yes', 'on'].includes(v))
    .optional(),
);

/** An optional variable's default, applied when it is unset or empty: env.ts is where the hub's defaults live. */
const orDefault =
  <T>(value: T) =>
  (v: T | undefined): T =>
    v ?? value;

const envSchema = z
  .object({
    /** `production` turns GraphQL introspection off unless DAPPLE_GRAPHQL_INTROSPECTION=1. */
    NODE_ENV: optionalString,
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    HOST: z.string().trim().min(1).default('127.0.0.1'),
    /** Port of the dashboard that `npm start` runs beside the API. */
    WEB_PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    /** Port of the embedded Postgres `npm start` runs when DATABASE_URL is unset. */
    EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
    /** Unset: `npm start` runs an embedded Postgres under DAPPLE_DATA_DIR. */
    DATABASE_URL: optionalString.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
    S3_ENDPOINT: optionalString.pipe(z.url().optional()),
    S3_ACCESS_KEY: optionalString,
    S3_SECRET_KEY: optionalString,
    S3_BUCKET: optionalString,
    S3_REGION: optionalString,
    /** Where trainers run: child processes on this machine, or one Kubernetes Job per run. */
    DAPPLE_EXECUTOR: z.enum(['local', 'kubernetes']).default('local'),
    /** Kubernetes executor: how to reach the API ('in-cluster' inside a pod, 'default' = KUBECONFIG / ~/.kube/config). */
    K8S_CONFIG: z.enum(['in-cluster', 'default']).default('in-cluster'),
    K8S_NAMESPACE: z.string().trim().min(1).default('dapple'),
    /** The trainer image (apps/trainer/Dockerfile). Required with DAPPLE_EXECUTOR=kubernetes. */
    K8S_TRAINER_IMAGE: optionalString,
    K8S_GPUS_PER_RUN: z.coerce.number().int().min(0).max(16).default(1),
    K8S_MAX_CONCURRENT_RUNS: z.coerce.number().int().min(1).max(1000).default(4),
    K8S_GRACE_SECONDS: z.coerce.number().int().min(1).max(3600).default(90),
    DAPPLE_DATA_DIR: z.string().trim().min(1).default('.dapple'),
    /** HMAC / session secret. Unset: generated once and kept in `<DAPPLE_DATA_DIR>/secret`. */
    DAPPLE_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
    PUBLIC_URL: optionalString.pipe(z.url().optional()),
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
    /** Set by `npm start`'s supervisor for the hub process it runs: pretty logs, and the dashboard's origin. */
    DAPPLE_PRETTY_LOGS: optionalFlag,
    DAPPLE_WEB_ORIGIN: optionalString.pipe(z.url().optional()),
    /** GraphQL `__schema` / `__type` queries (cost-limited either way). Default: on, off when NODE_ENV=production. */
    DAPPLE_GRAPHQL_INTROSPECTION: optionalFlag, // its default depends on NODE_ENV: the last step below
    /**
     * Who may create an account. `invite`: the first account of an empty hub, then only people with a team invite
     * (for the address it was sent to). `open`: anyone, and a taken email is refused by name (docs/security.md).
     */
    DAPPLE_SIGNUP: optionalString
      .pipe(z.enum(['invite', 'open'], { error: 'must be invite or open' }).optional())
      .transform(orDefault<'invite' | 'open'>('invite')),
    /**
     * Comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed (client IPs
     * for sign-in limits and logs). Default: loopback only (the dashboard's own proxy). `none`: trust nobody.
     */
    DAPPLE_TRUSTED_PROXIES: optionalString.transform(orDefault('loopback')),
    /**
     * Webhooks to loopback, private and link-local addresses (internal receivers): `1` allows all of them, a
     * comma-separated list of addresses / CIDR ranges allows those. Default: refused.
     */
    DAPPLE_WEBHOOK_ALLOW_PRIVATE: optionalString
      .pipe(
        z
          .string()
          .transform((v, ctx) => {
            if (['1', 'true', 'yes', 'on'].includes(v)) return true;
            if (['0', 'false', 'no', 'off'].includes(v)) return false;
            const list = v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean);
            for (const entry of list) {
              const [net = '', bits] = entry.split('/');
              if (!isIP(net) || (bits !== undefined && !/^\d{1,3}$/.test(bits)))
                ctx.addIssue({ code: 'custom', message: `"${entry}" is not 1, 0 or an address / CIDR range` });
            }
            return list;
          })
          .optional(),
      )
      .transform(orDefault<boolean | string[]>(false)),
    // Dataset limits (unset: the defaults in services/datasets/config.ts). Sizes in bytes.
    DATASET_MAX_FILES_PER_UPLOAD: optionalPositiveInt,
    DATASET_MAX_FILE_BYTES: optionalPositiveInt,
    DATASET_MAX_ARCHIVE_BYTES: optionalPositiveInt,
    DATASET_MAX_UPLOAD_BYTES: optionalPositiveInt,
    DATASET_MAX_ARCHIVE_EXPANDED_BYTES: optionalPositiveInt,
    DATASET_MAX_ARCHIVE_ENTRIES: optionalPositiveInt,
    DATASET_MAX_COMPRESSION_RATIO: optionalPositiveInt,
    DATASET_MAX_IMAGE_PIXELS: optionalPositiveInt,
    DATASET_MULTIPART_THRESHOLD_BYTES: optionalPositiveInt,
    DATASET_PART_BYTES: optionalPositiveInt.pipe(
      z
        .number()
        .min(5 * 1024 * 1024, 'must be at least 5242880 (5 MiB, S3 minimum part size)')
        .optional(),
    ),
    /** Local executor without GPUs: CPU runs at once, the usable cores split between them (executors/cpu-slots.ts). */
    DAPPLE_CPU_SLOTS: optionalPositiveInt,
    // Sampling pool and evaluation (sampling-config.ts, docs/evaluation.md).
    DAPPLE_SAMPLING_WORKERS: optionalPositiveInt,
    DAPPLE_SAMPLING_TEAM_CONCURRENCY: optionalPositiveInt,
    DAPPLE_SAMPLING_MAX_MODELS: optionalPositiveInt,
    /** Per share link: sample jobs queued or running at once, and started per hour (share-link-quota.ts). */
    DAPPLE_SHARE_LINK_MAX_ACTIVE_JOBS: optionalPositiveInt,
    DAPPLE_SHARE_LINK_JOBS_PER_HOUR: optionalPositiveInt,
    DAPPLE_INCEPTION_MODEL_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
    DAPPLE_INCEPTION_MODEL_KEY: optionalString,
    DAPPLE_INCEPTION_POOL_NODE: optionalString,
    DAPPLE_INCEPTION_LOGITS_NODE: optionalString,
    DAPPLE_INCEPTION_INPUT_RANGE: optionalString.pipe(z.enum(['[-1,1]', '[0,1]', '[0,255]']).optional()),
  })
  .superRefine((env, ctx) => {
    if (env.DAPPLE_EXECUTOR === 'kubernetes' && !env.K8S_TRAINER_IMAGE) {
      ctx.addIssue({
        code: 'custom',
        path: ['K8S_TRAINER_IMAGE'],
        message: 'is required when DAPPLE_EXECUTOR=kubernetes',
      });
    }
    // S3 is all-or-nothing: a half-configured store would silently fall back to disk.
    const s3 = ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_BUCKET'] as const;
    const set = s3.filter((k) => env[k] !== undefined);
    if (set.length > 0 && set.length < s3.length) {
      for (const k of s3.filter((k) => env[k] === undefined)) {
        ctx.addIssue({ code: 'custom', path: [k], message: `is required when ${set.join(', ')} is set` });
      }
    }
  })
  .transform((env) => ({
    ...env,
    DAPPLE_GRAPHQL_INTROSPECTION: env.DAPPLE_GRAPHQL_INTROSPECTION ?? env.NODE_ENV !== 'production',
  }));

/** Every variable the hub reads (docs/configuration.md lists each with its default; checks/env-docs.test.ts). */
export const HUB_ENV_VARS = Object.keys(envSchema.in.shape);

export type Env = z.output<typeof envSchema>;

export class EnvError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid environment:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

/**
 * Parses and validates the environment. The only place in the server that reads `process.env`;
 * pass `source` in tests. Throws an EnvError listing every bad variable by name.
 */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    throw new EnvError(result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  return result.data;
}
