import { createServer } from 'node:http';
import { createTestDatabase, type TestDatabase } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import type { DiskStore } from '@dapple/storage';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive as alive } from '../src/cli/processes.ts';
import type { SignedInUser } from './helpers.ts';
import {
  annWithDataset,
  killTrainers,
  ok,
  ownDiskStore,
  RUN,
  START_RUN,
  testRunsConfig,
  tinyConfig,
  waitForRun,
} from './runs-fixtures.ts';

/** Real processes on 2 shared cores while other test files run: generous, never a timing assertion. */
const PROCESS_TEST_TIMEOUT_MS = 360_000;

/**
 * Real trainer processes against a real hub: kill -9, SIGSTOP (heartbeats stop), hub restarts, cancels.
 * One slot, so runs of a test never compete; each test starts from an idle scheduler.
 */
let db: TestDatabase;
let removeStore: (() => Promise<void>) | undefined;
let store: DiskStore;
let port: number;
let runsConfig: Awaited<ReturnType<typeof testRunsConfig>>;
let hub: TestHub;
let ann: SignedInUser;
let versionId: string;

async function openHub(overrides: Partial<Parameters<typeof testRunsConfig>[0]> = {}): Promise<TestHub> {
  return startTestHub({ databaseUrl: db.connectionString, store, port, runs: { ...runsConfig, ...overrides } });
}

beforeAll(async () => {
  db = await createTestDatabase();
  ({ store, port, remove: removeStore } = await ownDiskStore('dapple-runs-store-'));
  runsConfig = await testRunsConfig();
  hub = await openHub();
  ({ ann, versionId } = await annWithDataset(hub));
});
afterEach(async () => {
  // Whatever a failed test left running must not slow the next one down (the database outlives hubs).
  await killTrainers(db);
});
afterAll(async () => {
  if (db) await killTrainers(db);
  await hub?.close();
  await db?.drop();
  await removeStore?.();
  await runsConfig?.cleanup();
});

const startRun = async (name: string, config: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ok(await ann.client.request(START_RUN, { input: { datasetVersionId: versionId, name, seed: 11, config, ...extra } }))
    .startRun.id as string;
const view = async (id: string) => ok(await ann.client.request(RUN, { id })).run;
const cancel = (id: string) => ann.client.request(`mutation ($id: ID!) { cancelRun(id: $id) { status } }`, { id });
const resume = async (id: string) =>
  ok(await ann.client.request(`mutation ($id: ID!) { resumeRun(id: $id) { status attempt } }`, { id })).resumeRun;
const pidOf = (run: { executorHandle: string | null }) => Number(run.executorHandle);
const finished = (s: string) => ['succeeded', 'failed', 'cancelled'].includes(s);

describe('runs survive crashes, restarts and cancels', () => {
  it(
    'kill -9 mid-run: failed with the last log lines; resumeRun continues from the last checkpoint without duplicated metric steps',
    async () => {
      // 120 steps: a one-thread trainer (testRunsConfig) trains this model in ~20-40 ms a step, and the hub sees the
      // step every reportEverySec (0.5 s), so 60 steps could end before the kill lands.
      const id = await startRun('killed', tinyConfig({ steps: 120, checkpointEvery: 10, sampleEvery: 1000 }));
      const running = await waitForRun(hub, id, (r) => r.status === 'running' && r.step >= 25, 'past step 25');
      process.kill(pidOf(running), 'SIGKILL');
      const failed = await waitForRun(hub, id, (r) => r.status === 'failed', 'failed');
      expect(failed.error).toMatch(/killed by SIGKILL/);
      expect(failed.error).toMatch(/last log lines:/);
      expect(failed.error).toMatch(/dapple trainer for run/);
      const before = await view(id);
      const lastCheckpoint = Math.max(...before.checkpoints.map((c: { step: number }) => c.step));
      expect(lastCheckpoint).toBeGreaterThanOrEqual(20);

      expect((await resume(id)).status).toBe('QUEUED');
      const done = await waitForRun(hub, id, (r) => finished(r.status), 'finished again');
      const after = await view(id);
      expect(done.status, after.logs.map((l: { line: string }) => l.line).join('\n')).toBe('succeeded');
      expect(done.attempt).toBe(2);
      expect(
        after.logs.some(
          (l: { attempt: number; line: string }) =>
            l.attempt === 2 && l.line.includes(`resumed from the checkpoint of step ${lastCheckpoint}`),
        ),
      ).toBe(true);
      // keepCheckpoints 2: only the newest two remain, besides the untrained step-0 baseline.
      expect(after.checkpoints.map((c: { step: number }) => c.step)).toEqual([0, 110, 120]);

      const metrics = ok(
        await ann.client.request(
          `query ($id: ID!) { run(id: $id) { metrics(keys: ["loss"], maxPoints: 1000) { key bucketWidth points { step count } } } }`,
          { id },
        ),
      ).run.metrics[0];
      expect(metrics.bucketWidth).toBe(1);
      expect(metrics.points.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(metrics.points.every((p: { count: number }) => p.count === 1)).toBe(true);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'cancel while running: cancelling, a second cancel is harmless, the trainer checkpoints and ends cancelled; resume continues',
    async () => {
      const id = await startRun(
        'cancelled',
        tinyConfig({ steps: 100_000, checkpointEvery: 1000, sampleEvery: 100_000 }),
      );
      const running = await waitForRun(hub, id, (r) => r.status === 'running' && r.step >= 5, 'running');
      const first = ok(await cancel(id)).cancelRun.status;
      expect(first).toBe('CANCELLING');
      expect(ok(await cancel(id)).cancelRun.status).toMatch(/CANCELLING|CANCELLED/);
      const cancelled = await waitForRun(hub, id, (r) => finished(r.status), 'cancelled');
      expect(cancelled.status).toBe('cancelled');
      const v = await view(id);
      // SIGTERM → checkpoint at the step it stopped at (not a multiple of checkpointEvery).
      expect(v.checkpoints.map((c: { step: number }) => c.step).at(-1)).toBe(cancelled.step);
      // Whichever reached the trainer first: the SIGTERM or the cancel flag in a heartbeat reply.
      await waitForLog(id, /stopping at step \d+: (received SIGTERM|the run was cancelled)/);
      await waitForExit(pidOf(running)); // it reported, then exits
      expect(errorOf(await cancel(id))).toBe('CONFLICT');

      await resume(id);
      const again = await waitForRun(
        hub,
        id,
        (r) => r.status === 'running' && r.attempt === 2 && r.step > cancelled.step,
        'running again',
      );
      expect(again.step).toBeGreaterThan(cancelled.step);
      ok(await cancel(id));
      expect((await waitForRun(hub, id, (r) => finished(r.status), 'cancelled again')).status).toBe('cancelled');
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'cancel while starting ends cancelled and leaves no process',
    async () => {
      const id = await startRun(
        'cancel-early',
        tinyConfig({ steps: 100_000, sampleEvery: 100_000, checkpointEvery: 100_000 }),
      );
      await waitForRun(hub, id, (r) => r.status !== 'queued', 'claimed by the scheduler', 60_000);
      ok(await cancel(id));
      const done = await waitForRun(hub, id, (r) => finished(r.status), 'cancelled');
      expect(done.status).toBe('cancelled');
      const pid = pidOf(await waitForRun(hub, id, () => true, ''));
      if (pid) await waitForExit(pid);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'forkRun starts a new run from a checkpoint with training overrides; refuses a step without a checkpoint',
    async () => {
      const parent = await startRun('parent', tinyConfig({ steps: 20, checkpointEvery: 10, sampleEvery: 1000 }));
      expect((await waitForRun(hub, parent, (r) => finished(r.status), 'finished')).status).toBe('succeeded');
      const FORK = `mutation ($input: ForkRunInput!) { forkRun(input: $input) { id parentRunId fromStep status config { lr steps preset } progress { step } } }`;
      const missing = await ann.client.request(FORK, { input: { id: parent, fromStep: 5, overrides: { steps: 30 } } });
      expect(errorOf(missing)).toBe('BAD_USER_INPUT');
      expect(missing.errors?.[0]?.message).toMatch(/no checkpoint at step 5; available: 0, 10, 20/);
      const tooShort = await ann.client.request(FORK, {
        input: { id: parent, fromStep: 10, overrides: { steps: 10 } },
      });
      expect(tooShort.errors?.[0]?.extensions?.field).toBe('overrides.steps');

      const fork = ok(
        await ann.client.request(FORK, {
          input: { id: parent, fromStep: 10, name: 'fork', overrides: { steps: 30, lr: 0.001 } },
        }),
      ).forkRun;
      expect(fork).toMatchObject({
        parentRunId: parent,
        fromStep: 10,
        status: 'QUEUED',
        config: { lr: 0.001, steps: 30, preset: 'TINY' },
        progress: { step: 10 },
      });
      const done = await waitForRun(hub, fork.id, (r) => finished(r.status), 'finished');
      expect(done.status, done.error ?? '').toBe('succeeded');
      const v = await view(fork.id);
      expect(v.logs.some((l: { line: string }) => l.line.includes('resumed from the checkpoint of step 10'))).toBe(
        true,
      );
      const loss = ok(
        await ann.client.request(
          `query ($id: ID!) { run(id: $id) { metrics(keys: ["loss", "lr"], maxPoints: 1000) { key points { step last } } } }`,
          { id: fork.id },
        ),
      ).run.metrics;
      expect(loss[0].points.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
      expect(loss[1].points.every((p: { last: number }) => Math.abs(p.last - 0.001) < 1e-9)).toBe(true);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'restarting the hub while a run trains: the trainer keeps going and the new hub re-adopts it',
    async () => {
      const id = await startRun('restart', tinyConfig({ steps: 120, checkpointEvery: 40, sampleEvery: 1000 }));
      const running = await waitForRun(hub, id, (r) => r.status === 'running' && r.step >= 5, 'running');
      await hub.close();
      // While no hub runs, the port answers 503 (as a proxy in front of a restarting hub would), so that no
      // other test process on this machine takes it; the trainer retries its reports.
      const outage = await holdPort(port);
      await new Promise((r) => setTimeout(r, 1500));
      expect(alive(pidOf(running))).toBe(true);
      await outage.release();
      hub = await openHub();
      const done = await waitForRun(hub, id, (r) => finished(r.status), 'finished');
      expect(done.status, done.error ?? '').toBe('succeeded');
      expect(done.attempt).toBe(1);
      expect((await view(id)).events.map((e: { toStatus: string | null }) => e.toStatus)).not.toContain('LOST');
      // Output written after the restart reaches run_logs through the re-adopting hub (its last line once the process exits).
      await waitForLog(id, 'finished: 120 steps');
      // It really trained through the outage: its reports failed and were retried.
      await waitForLog(id, 'could not reach the hub');
      expect(running.step).toBeLessThan(120);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'a trainer that died while the hub was down is re-queued from its checkpoint by the next hub',
    async () => {
      // 120 steps, as in the kill -9 test: the run must still be training when the hub goes down.
      const id = await startRun(
        'died-during-restart',
        tinyConfig({ steps: 120, checkpointEvery: 10, sampleEvery: 1000 }),
      );
      const running = await waitForRun(hub, id, (r) => r.status === 'running' && r.step >= 15, 'past step 15');
      await hub.close();
      const outage = await holdPort(port);
      process.kill(pidOf(running), 'SIGKILL');
      await waitForExit(pidOf(running));
      await outage.release();
      hub = await openHub();
      const done = await waitForRun(hub, id, (r) => finished(r.status), 'finished');
      expect(done.status, done.error ?? '').toBe('succeeded');
      expect(done.attempt).toBe(2);
      const v = await view(id);
      expect(v.events.map((e: { toStatus: string | null }) => e.toStatus)).toEqual([
        'QUEUED',
        'STARTING',
        'RUNNING',
        'LOST',
        'QUEUED',
        'STARTING',
        'RUNNING',
        'SUCCEEDED',
      ]);
      expect(v.events.find((e: { toStatus: string | null }) => e.toStatus === 'LOST').message).toMatch(
        /gone when the hub restarted/,
      );
    },
    PROCESS_TEST_TIMEOUT_MS,
  );

  it(
    'a trainer whose heartbeats stop is lost and re-queued from its checkpoint, up to max attempts',
    async () => {
      await hub.close();
      hub = await openHub({ heartbeatTimeoutMs: 5000 });
      const id = await startRun('stalled', tinyConfig({ steps: 100_000, checkpointEvery: 5, sampleEvery: 100_000 }), {
        maxAttempts: 2,
      });
      const first = await waitForRun(hub, id, (r) => r.status === 'running' && r.step >= 6, 'running');
      process.kill(pidOf(first), 'SIGSTOP');
      const second = await waitForRun(
        hub,
        id,
        (r) => r.attempt === 2 && r.status === 'running' && r.step > 5,
        'training its second attempt',
      );
      await waitForExit(pidOf(first)); // the stalled process was killed, not left to wake up
      process.kill(pidOf(second), 'SIGSTOP');
      const failed = await waitForRun(hub, id, (r) => r.status === 'failed', 'failed');
      expect(failed.error).toMatch(/no heartbeat from the trainer for 5 s; gave up after 2 of 2 attempts/);
      const v = await view(id);
      const statuses = v.events.map((e: { toStatus: string | null }) => e.toStatus);
      expect(statuses).toEqual([
        'QUEUED',
        'STARTING',
        'RUNNING',
        'LOST',
        'QUEUED',
        'STARTING',
        'RUNNING',
        'LOST',
        'FAILED',
      ]);
      expect(
        v.logs.some(
          (l: { attempt: number; line: string }) => l.attempt === 2 && l.line.includes('resumed from the checkpoint'),
        ),
      ).toBe(true);
      await waitForExit(pidOf(second));
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});

async function holdPort(p: number): Promise<{ release(): Promise<void> }> {
  const server = createServer((_req, res) =>
    res
      .writeHead(503, { 'content-type': 'application/json' })
      .end('{"error":{"code":"UNAVAILABLE","message":"hub restarting"}}'),
  );
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(p, '127.0.0.1', resolve));
  return {
    release: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function waitForExit(pid: number): Promise<void> {
  for (let i = 0; i < 300 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  expect(alive(pid), `process ${pid} still alive`).toBe(false);
}

async function waitForLog(id: string, text: string | RegExp): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const logs = (await view(id)).logs as { line: string }[];
    if (logs.some((l) => (typeof text === 'string' ? l.line.includes(text) : text.test(l.line)))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no log line with "${text}"`);
}

function errorOf(res: { errors?: { extensions?: { code?: string } }[] }): string | undefined {
  return res.errors?.[0]?.extensions?.code;
}
