import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { insertMetricPoints } from '@dapple/db';
import type pg from 'pg';
import { gqlClient } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';
import { readyDatasetVersion } from './runs-fixtures.ts';
import { finishedRunWithCheckpoints, listKeys } from './models-fixtures.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annWithToken, DAPPLE_BIN, runCli, type CliResult } from './cli-harness.ts';
// A ready dataset version written straight through prepareDataset (the runs tests' fixture).
// A finished run with trainer-format checkpoints, to publish a model version from.

let hub: TestHub;
let home: string;
let token: string;
let teamId: string;

/** Runs the real CLI with a private HOME/config and only the env we give it. */
const dapple = (args: string[], env: Record<string, string> = {}) => runCli(home, args, env, 60_000);

beforeAll(async () => {
  // API-only hub: queued runs stay queued (no trainer processes in a CLI test).
  hub = await startTestHub({ runs: { executor: false } });
  home = await mkdtemp(join(tmpdir(), 'dapple-cli-'));
  ({ teamId, token } = await annWithToken(hub.graphqlUrl));
});

afterAll(async () => {
  await hub?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('dapple CLI against a real hub', () => {
  it('explains usage mistakes and missing credentials with exit code 1', async () => {
    const help = await dapple(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('dapple run start --dataset-version');
    const unknown = await dapple(['frobnicate']);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining('unknown command "frobnicate"')]);
    const badFlag = await dapple(['whoami', '--nope']);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toMatch(/Unknown option '--nope'/);
    const anonymous = await dapple(['whoami']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('not logged in: run `dapple login');
    const unreachable = await dapple(['whoami'], { DAPPLE_URL: 'http://127.0.0.1:9', DAPPLE_TOKEN: token });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach the hub at http://127.0.0.1:9');
  });

  it('refuses a bad token at login with the hub error code, storing nothing', async () => {
    const res = await dapple(['login', '--url', hub.url, '--token', 'dpl_not-a-real-token']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/\(UNAUTHENTICATED\)/);
    await expect(stat(join(home, 'dapple.json'))).rejects.toThrow(/ENOENT/);
  });

  it('logs in (config 0600), then whoami uses the stored config; env overrides it', async () => {
    const res = await dapple(['login', '--url', `${hub.url}/some/path`, '--token', token]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Logged in to');
    const file = join(home, 'dapple.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: hub.url, token });

    const who = await dapple(['whoami']);
    expect(who.code).toBe(0);
    expect(who.stdout).toContain(`Ann <ann@example.com> on ${hub.url}`);
    expect(who.stdout).toMatch(/vision\s+Vision\s+owner/);
    const json = JSON.parse((await dapple(['whoami', '--json'])).stdout);
    expect(json).toMatchObject({ url: hub.url, name: 'Ann', email: 'ann@example.com' });

    // The token can come from stdin (kept out of shell history).
    const viaStdin = await new Promise<CliResult>((resolve) => {
      const child = spawn(process.execPath, [DAPPLE_BIN, 'login', '--url', hub.url, '--token', '-'], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, DAPPLE_CONFIG: join(home, 'stdin.json') },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      child.stdin.end(`${token}\n`);
    });
    expect([viaStdin.code, viaStdin.stderr]).toEqual([0, '']);
    expect(JSON.parse(await readFile(join(home, 'stdin.json'), 'utf8'))).toEqual({ url: hub.url, token });

    const revokedEnv = await dapple(['whoami'], { DAPPLE_TOKEN: 'dpl_wrong' });
    expect(revokedEnv.code).toBe(1);
    expect(revokedEnv.stderr).toMatch(/API token is invalid, expired or revoked \(UNAUTHENTICATED\)/);
  });

  it('lists runs, shows logs and metrics, and reports hub errors for start/cancel', async () => {
    expect((await dapple(['run', 'list', '--team', 'vision'])).stdout.trim()).toBe('No runs.');
    const noTeam = await dapple(['run', 'list', '--team', 'nope']);
    expect([noTeam.code, noTeam.stderr]).toEqual([1, expect.stringMatching(/\(NOT_FOUND\)/)]);

    const start = await dapple([
      'run',
      'start',
      '--dataset-version',
      '00000000-0000-4000-8000-000000000000',
      '--preset',
      'tiny',
      '--set',
      'steps=10',
    ]);
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(/\((NOT_FOUND|BAD_USER_INPUT)\)/);
    const badSet = await dapple(['run', 'start', '--dataset-version', 'x', '--preset', 'tiny', '--set', 'steps']);
    expect([badSet.code, badSet.stderr]).toEqual([1, expect.stringContaining('--set "steps": expected key=value')]);

    // A finished run with logs and metrics, written the way the hub's services write them.
    const pool = (hub.db as unknown as { $client: pg.Pool }).$client;
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO runs (team_id, name, config, seed, total_steps, status) VALUES ($1, 'cli-run', '{"preset":"tiny"}', 7, 400, 'failed') RETURNING id`,
      [teamId],
    );
    const runId = rows[0]!.id;
    await pool.query(
      `INSERT INTO run_logs (run_id, attempt, seq, stream, line) VALUES ($1, 1, 1, 'stdout', 'step 1 loss 0.9'), ($1, 1, 2, 'stderr', 'warning: slow')`,
      [runId],
    );
    await insertMetricPoints(
      pool,
      runId,
      Array.from({ length: 400 }, (_, step) => [
        { key: 'loss', step, value: 1 / (1 + step) },
        { key: 'lr', step, value: 1e-4 },
      ]).flat(),
    );

    const list = await dapple(['run', 'list']); // the only team is picked without --team
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${runId}\\s+cli-run\\s+failed`));

    const logs = await dapple(['run', 'logs', runId]);
    expect(logs.stdout).toBe('step 1 loss 0.9\n[stderr] warning: slow\n');
    const follow = await dapple(['run', 'logs', runId, '--follow', '--interval-ms', '50']);
    expect(follow.code).toBe(0);
    expect(follow.stderr).toContain(`run ${runId} failed`);

    const chart = await dapple(['metrics', runId, '--keys', 'loss,lr', '--max-points', '50']);
    expect(chart.code).toBe(0);
    expect(chart.stdout).toMatch(/^loss {2}steps 0–399 {2}last 0\.0025 {2}min 0\.0025 {2}max 1$/m);
    expect(chart.stdout).toMatch(/^ {2}[▁▂▃▄▅▆▇█]{25,}$/m);
    const json = JSON.parse((await dapple(['metrics', runId, '--max-points', '4', '--json'])).stdout);
    expect(json.map((s: { key: string }) => s.key)).toEqual(['loss', 'lr']);
    expect(json[0].points).toHaveLength(4);
    expect(json[0].points[0]).toMatchObject({ step: 0, count: 128, max: 1 });
    const tableOut = await dapple(['metrics', runId, '--keys', 'lr', '--max-points', '2', '--table']);
    expect(tableOut.stdout).toMatch(/STEP\s+MEAN\s+MIN\s+MAX\s+LAST\s+COUNT\n0\s+1\.000e-4/);

    const cancel = await dapple(['run', 'cancel', runId]);
    expect([cancel.code, cancel.stderr]).toEqual([1, expect.stringMatching(/\(CONFLICT\)/)]);
    const missing = await dapple(['run', 'cancel', '00000000-0000-4000-8000-000000000000']);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/\(NOT_FOUND\)/)]);
  });

  it('starts a run from a preset with overrides, lists it by status, and cancels it', async () => {
    // 8 px images: the tiny preset (16 px on its own) takes the dataset's resolution without --set model.resolution.
    const { versionId } = await readyDatasetVersion(hub, teamId, { resolution: 8, n: 8 });
    const bad = await dapple([
      'run',
      'start',
      '--dataset-version',
      versionId,
      '--preset',
      'tiny',
      '--set',
      'steps=20',
      '--set',
      'batchSize=100000',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/batchSize.*\(BAD_USER_INPUT\)/);

    const start = await dapple([
      'run',
      'start',
      '--dataset-version',
      versionId,
      '--preset',
      'tiny',
      '--name',
      'cli-start',
      '--seed',
      '5',
      '--set',
      'steps=20',
      '--set',
      'batchSize=4',
      '--set',
      'optimizer=adam',
      '--set',
      'sampleSampler=ddim',
    ]);
    expect(start.stderr).toBe('');
    const match = /^Started run ([0-9a-f-]{36}) \(cli-start\): queued, 20 steps$/m.exec(start.stdout);
    expect(match).not.toBeNull();
    const runId = match![1]!;
    const stored = await gqlClient(hub.graphqlUrl, { token }).request<{ run: { config: Record<string, unknown> } }>(
      `query ($id: ID!) { run(id: $id) { config { optimizer sampleSampler model { resolution } } } }`,
      { id: runId },
    );
    expect(stored.data!.run.config).toEqual({ optimizer: 'ADAM', sampleSampler: 'DDIM', model: { resolution: 8 } });

    const queued = await dapple(['run', 'list', '--team', 'vision', '--status', 'queued', '--json']);
    expect(JSON.parse(queued.stdout).map((r: { id: string }) => r.id)).toEqual([runId]);
    const cancel = await dapple(['run', 'cancel', runId]);
    expect([cancel.code, cancel.stdout.trim()]).toEqual([0, `Run ${runId}: cancelled`]);
  });

  it('fine-tunes a published model version, taking its preset and model settings from the version', async () => {
    const api = gqlClient(hub.graphqlUrl, { token });
    const me = await api.request<{ me: { id: string } }>(`{ me { id } }`);
    const { run, datasetVersionId } = await finishedRunWithCheckpoints(hub, teamId, me.data!.me.id);
    const published = await api.request<{ publishModel: { version: { id: string } } }>(
      `mutation ($input: PublishModelInput!) { publishModel(input: $input) { version { id } } }`,
      { input: { runId: run.id, step: 40, modelName: 'cli-base' } },
    );
    const baseId = published.data!.publishModel.version.id;

    // The base is an 8×8 tiny variant: without --preset/--set model.* the CLI sends the version's own settings.
    const start = await dapple([
      'run',
      'start',
      '--dataset-version',
      datasetVersionId,
      '--from-model-version',
      baseId,
      '--set',
      'steps=10',
      '--json',
    ]);
    expect(start.stderr).toBe('');
    const started = JSON.parse(start.stdout) as { id: string };
    const view = await api.request<{
      run: { baseModelVersionId: string; config: { preset: string; model: { baseChannels: number } } };
    }>(`query ($id: ID!) { run(id: $id) { baseModelVersionId config { preset model { baseChannels } } } }`, {
      id: started.id,
    });
    expect(view.data!.run).toEqual({
      baseModelVersionId: baseId,
      config: { preset: 'TINY', model: { baseChannels: 8 } },
    });

    // An explicit architecture that differs from the base is the hub's error, naming the field.
    const wider = await dapple([
      'run',
      'start',
      '--dataset-version',
      datasetVersionId,
      '--from-model-version',
      baseId,
      '--set',
      'model.baseChannels=16',
    ]);
    expect([wider.code, wider.stderr]).toEqual([
      1,
      expect.stringMatching(/baseChannels 16 \(base 8\).*\(BAD_USER_INPUT\)/),
    ]);
    const unknown = await dapple([
      'run',
      'start',
      '--dataset-version',
      datasetVersionId,
      '--from-model-version',
      '00000000-0000-4000-8000-000000000000',
    ]);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringMatching(/\(NOT_FOUND\)/)]);
  });

  it('run delete says what it would free without --yes, then deletes the run and every stored object', async () => {
    const api = gqlClient(hub.graphqlUrl, { token });
    const me = await api.request<{ me: { id: string } }>(`{ me { id } }`);
    const { run } = await finishedRunWithCheckpoints(hub, teamId, me.data!.me.id, [10, 20]);
    // Credentials from the environment: the test does not depend on an earlier test's login.
    const env = { DAPPLE_URL: hub.url, DAPPLE_TOKEN: token };
    const dry = await dapple(['run', 'delete', run.id], env);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/keeps 2 checkpoints, 2 sample grids, 6 objects, [\d.]+ KiB\./);
    expect(dry.stderr).toContain('nothing deleted: add --yes');
    expect(await listKeys(hub, `runs/${run.id}/`)).toHaveLength(6);

    const done = await dapple(['run', 'delete', run.id, '--yes'], env);
    expect([done.code, done.stderr]).toEqual([0, '']);
    expect(done.stdout).toMatch(/^Deleted run [0-9a-f-]{36}: freed 2 checkpoints, 2 sample grids, 6 objects, /);
    expect(await listKeys(hub, `runs/${run.id}/`)).toEqual([]);
    const again = await dapple(['run', 'delete', run.id, '--yes'], env);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/\(NOT_FOUND\)/)]);
  });
});
