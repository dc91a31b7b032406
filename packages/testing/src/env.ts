import { z } from 'zod';

/**
 * The test fixtures' environment, parsed once. `DAPPLE_CHROMIUM_PATH` points the browser tests at a Chromium of
 * your choice; without it they use Debian's `/usr/bin/chromium` when present, else the one inside the
 * `@sparticuz/chromium` npm package (see chromium.ts).
 */
const TestEnvSchema = z.object({
  DAPPLE_CHROMIUM_PATH: z.string().min(1).optional(),
});

export type TestEnv = z.infer<typeof TestEnvSchema>;

export function testEnv(source: NodeJS.ProcessEnv = process.env): TestEnv {
  const parsed = TestEnvSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
