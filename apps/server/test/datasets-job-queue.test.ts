import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { useTestDatabase } from '@dapple/testing';
import { defineJob, type JobDefinition } from '../src/jobs/job.ts';
import { JobQueue } from '../src/jobs/queue.ts';
import { createLogger } from '../src/logger.ts';
import type { Services } from '../src/services/index.ts';

// The job catalog machinery on a real pg-boss in a real Postgres: payload validation, retries with the
// attempt number, and onExhausted once the last attempt failed.

const testDb = await useTestDatabase();
const calls: string[] = [];
const payload = z.object({ n: z.number().int() });
const catalog: Record<string, JobDefinition<z.ZodType>> = {
  'test.flaky': defineJob({
    name: 'test.flaky',
    payload,
    retry: { limit: 1, delaySeconds: 0, backoff: false },
    expireInSeconds: 60,
    concurrency: 1,
    handler: async ({ n }, ctx) => {
      calls.push(`flaky ${n} retry=${ctx.retryCount} final=${ctx.finalAttempt}`);
      if (ctx.retryCount === 0) throw new Error('the first attempt fails');
    },
  }),
  'test.doomed': defineJob({
    name: 'test.doomed',
    payload,
    retry: { limit: 0, delaySeconds: 0, backoff: false },
    expireInSeconds: 60,
    concurrency: 1,
    handler: async ({ n }) => {
      calls.push(`doomed ${n}`);
      throw new Error('always fails');
    },
    onExhausted: async ({ n }) => void calls.push(`exhausted ${n}`),
  }),
};

let queue: JobQueue;
beforeAll(async () => {
  queue = new JobQueue({
    executeSql: (text, values) => testDb.pool.query(text, values),
    logger: createLogger('silent'),
    pollingIntervalSeconds: 0.5,
    catalog,
  });
  await queue.startWorkers({} as Services);
});
afterAll(() => queue?.stop());

const send = (name: string, data: unknown) =>
  (queue as unknown as { send(name: string, data: unknown): Promise<string> }).send(name, data);

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
}

it('validates payloads on send, retries a failed attempt, and calls onExhausted after the last one', async () => {
  await expect(send('test.flaky', { n: 'one' })).rejects.toThrow(/expected number/);
  await expect(send('no.such.job', {})).rejects.toThrow(/unknown job "no.such.job"/);
  await send('test.flaky', { n: 1 });
  await send('test.doomed', { n: 2 });
  await until(() => calls.includes('flaky 1 retry=1 final=true') && calls.includes('exhausted 2'));
  expect(calls.filter((c) => c.startsWith('flaky')).sort()).toEqual([
    'flaky 1 retry=0 final=false',
    'flaky 1 retry=1 final=true',
  ]);
  expect(calls.filter((c) => !c.startsWith('flaky'))).toEqual(['doomed 2', 'exhausted 2']);
});
