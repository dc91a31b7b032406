import { z } from 'zod';

// The one place the web app reads its configuration. Parsed lazily on first use (not at import time)
// so `next build` does not need a running API, and the values are read at request time by `next start`.
const EnvSchema = z.object({
  DAPPLE_API_URL: z
    .url({ message: 'DAPPLE_API_URL must be an absolute http(s) URL of the Dapple API, e.g. http://127.0.0.1:4000' })
    .default('http://127.0.0.1:4000')
    .transform((url) => url.replace(/\/+$/, '')),
});

export type WebEnv = z.infer<typeof EnvSchema>;

/** Every variable the dashboard reads and its defaults (docs/configuration.md; checks/env-docs.test.ts compares). */
export const WEB_ENV_VARS = Object.keys(EnvSchema.shape);
export const webEnvDefaults = (): WebEnv => EnvSchema.parse({});

let cached: WebEnv | undefined;

export function webEnv(): WebEnv {
  if (cached) return cached;
  const parsed = EnvSchema.safeParse(process.env);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Invalid web configuration: ${details}`);
  }
  cached = parsed.data;
  return cached;
}

/**
 * Whether this is `next dev`: Next inlines NODE_ENV when it compiles, so this is a fact of the build, not a setting
 * (the dev server's React refresh needs `'unsafe-eval'` in the CSP; production never gets it).
 */
export function isDevServer(): boolean {
  return process.env.NODE_ENV === 'development';
}
