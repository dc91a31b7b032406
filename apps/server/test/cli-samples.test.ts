import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestHub, type TestHub } from './support/hub.ts';
import { killTrainers, testRunsConfig } from './runs-fixtures.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { png } from '@dapple/datasets/testing';
import sharp from 'sharp';
import { annWithToken, json, runCli, spawnCli } from './cli-harness.ts';
import { evaluations } from '@dapple/db';
import { desc } from 'drizzle-orm';

// The loop from a terminal, with nothing but what the CLI printed: `dataset upload` → `run start` (a real trainer
// process) → `run logs --follow` → `model publish` → `samples` (the hub's sampling workers), ids as short prefixes.

let hub: TestHub;
let home: string;
let env: Record<string, string>;
let runsConfig: Awaited<ReturnType<typeof testRunsConfig>>;

const dapple = (args: string[]) => runCli(home, args, env, 300_000);

beforeAll(async () => {
  runsConfig = await testRunsConfig();
  hub = await startTestHub({
    runs: runsConfig,
    jobs: { pollingIntervalSeconds: 0.5 },
    sampling: { workers: 1, perTeamConcurrency: 1 },
  });
  home = await mkdtemp(join(tmpdir(), 'dapple-cli-samples-'));
  const { token } = await annWithToken(hub.graphqlUrl);
  env = { DAPPLE_URL: hub.url, DAPPLE_TOKEN: token };
});

afterAll(async () => {
  if (hub) await killTrainers(hub);
  await hub?.close();
  await runsConfig?.cleanup();
  if (home) await rm(home, { recursive: true, force: true });
});

interface SamplesResult {
  modelVersionId: string;
  jobs: { id: string; status: string; label: string | null; seed: number; count: number; steps: number }[];
  files: string[];
  grid: string | null;
}

/** A PNG's pixels as RGB (grey samples repeated over the three channels, as the CLI's grid draws them). */
async function rgbPixels(png: Buffer): Promise<{ width: number; height: number; rgb: Uint8Array }> {
  const { data, info } = await sharp(png)
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, rgb: new Uint8Array(data) };
}

describe('dapple dataset upload → run start → model publish → samples', () => {
  it('trains, publishes and samples with only the ids the CLI printed, writing PNGs and a labelled grid', async () => {
    const folder = join(home, 'shapes');
    for (const label of ['cats', 'dogs']) await mkdir(join(folder, label), { recursive: true });
    for (let i = 0; i < 24; i++) await writeFile(join(folder, i % 2 ? 'dogs' : 'cats', `${i}.png`), await png(8, 8, i));
    const uploaded = json<{ version: { id: string; status: string } }>(
      await dapple(['dataset', 'upload', folder, '--resolution', '8', '--channels', '1', '--wait', '--json']),
    );
    expect(uploaded.version.status).toBe('READY');

    // A run small enough to finish in seconds on a shared CPU (the runs tests' tiny config, as --set flags).
    const tiny = ['steps=20', 'batchSize=8', 'timesteps=100', 'sampleEvery=20', 'sampleCount=4', 'sampleSteps=5']
      .concat(['checkpointEvery=10', 'keepCheckpoints=2', 'reportEverySec=0.5', 'model.baseChannels=8'])
      .concat(['model.groups=4', 'model.attentionResolutions=[4]'])
      .flatMap((s) => ['--set', s]);
    const run = json<{ id: string }>(
      await dapple([
        'run',
        'start',
        '--dataset-version',
        uploaded.version.id.slice(0, 8),
        '--preset',
        'tiny',
        ...tiny,
        '--json',
      ]),
    );
    const logs = await dapple(['run', 'logs', run.id.slice(0, 8), '--follow', '--interval-ms', '300']);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stderr).toContain(`run ${run.id} succeeded`);

    const published = json<{
      model: { id: string; name: string };
      version: { id: string; number: number; step: number };
    }>(await dapple(['model', 'publish', run.id.slice(0, 8), '--name', 'shapes', '--json']));
    expect(published.version).toMatchObject({ number: 1, step: 20 });

    // The model as `model list` shows it, and evaluated against the dataset by name@alias and a short id.
    const models = json<{ id: string; name: string; versions: { id: string }[] }[]>(
      await dapple(['model', 'list', '--json']),
    );
    expect(models.map((m) => [m.name, m.versions.map((v) => v.id)])).toEqual([['shapes', [published.version.id]]]);
    expect((await dapple(['model', 'list'])).stdout).toMatch(/shapes\s+1\s+v1 ddpm step 20\s+\S+\s+latest→v1/);
    const evaluateArgs = ['shapes@latest', '--dataset-version', uploaded.version.id.slice(0, 8), '--samples', '10'];
    const fast = [...evaluateArgs, '--steps', '3', '--extractor', 'offline'];
    const evaluated = json<{
      status: string;
      numSamples: number;
      guidance: number | null;
      kid: { mean: number } | null;
      sampleAccuracy: { perClass: { name: string }[] } | null;
    }>(await dapple(['model', 'evaluate', ...fast, '--json']));
    expect(evaluated).toMatchObject({ status: 'SUCCEEDED', numSamples: 10, guidance: 3 });
    expect(Number.isFinite(evaluated.kid?.mean)).toBe(true);
    expect(evaluated.sampleAccuracy?.perClass.map((c) => c.name)).toEqual(['cats', 'dogs']);
    const shown = await dapple(['model', 'evaluate', ...fast]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^KID \d+\.\d{4} ± .* accuracy of samples .*cats .*dogs .*\(10 samples, guidance 3\)/);
    // …and where its time went (the classifier was trained by the first evaluation: this one loads it).
    expect(shown.stdout).toMatch(
      /\nevaluation \S+ in \d+\.\d s \(classifier \d+\.\d s, generating \d+\.\d s, measuring \d+\.\d s\) · /,
    );
    const badGuidance = await dapple(['model', 'evaluate', ...evaluateArgs, '--guidance', '30']);
    expect(badGuidance.stderr).toContain('--guidance: guidance: must be at most 20');

    // Ctrl-C while it waits or runs cancels the evaluation on the hub (the pretrained extractor's first load alone
    // takes seconds) instead of leaving it to run for nobody.
    const interrupted = spawnCli(home, ['model', 'evaluate', ...evaluateArgs, '--steps', '100'], env);
    await expect.poll(() => interrupted.stderr(), { timeout: 60_000 }).toMatch(/queued|sampling/);
    interrupted.child.kill('SIGINT');
    expect((await interrupted.exited).code).toBe(130);
    const [last] = await hub.db.select().from(evaluations).orderBy(desc(evaluations.queuedAt)).limit(1);
    expect(last).toMatchObject({ status: 'cancelled', numSamples: 10, kidMean: null });

    // By a short version id: one job per label, PNGs named by label, a grid with a row per label.
    const out = join(home, 'out');
    const byId = json<SamplesResult>(
      await dapple([
        'samples',
        published.version.id.slice(0, 8),
        ...['--label', 'cats', '--label', 'dogs', '--count', '3', '--steps', '4', '--seed', '7', '--sampler', 'ddim'],
        ...['--out', out, '--grid', '--json'],
      ]),
    );
    expect(byId.modelVersionId).toBe(published.version.id);
    expect(byId.jobs.map((j) => [j.status, j.label, j.seed, j.count, j.steps])).toEqual([
      ['SUCCEEDED', 'cats', 7, 3, 4],
      ['SUCCEEDED', 'dogs', 7, 3, 4],
    ]);
    expect((await readdir(out)).sort()).toEqual(
      ['cats-00.png', 'cats-01.png', 'cats-02.png', 'dogs-00.png', 'dogs-01.png', 'dogs-02.png', 'grid.png'].sort(),
    );
    const first = await rgbPixels(await readFile(join(out, 'cats-00.png')));
    expect([first.width, first.height]).toEqual([8, 8]);
    const grid = await rgbPixels(await readFile(byId.grid!));
    expect([grid.width, grid.height]).toEqual([3 * 8 + 2 * 2, 2 * 8 + 2]);
    // The grid's top-left tile is cats-00.png's pixels.
    expect(Array.from(grid.rgb.subarray(0, 8 * 3))).toEqual(Array.from(first.rgb.subarray(0, 8 * 3)));

    // By the model's name and alias, with the same settings: the same images, byte for byte.
    const again = join(home, 'again');
    const byAlias = json<SamplesResult>(
      await dapple([
        'samples',
        'shapes@latest',
        '--label',
        'cats',
        '-n',
        '3',
        '--steps',
        '4',
        '--seed',
        '7',
        '--sampler',
        'ddim',
        '-o',
        again,
        '--json',
      ]),
    );
    expect(byAlias.modelVersionId).toBe(published.version.id);
    expect(byAlias.grid).toBeNull();
    expect(await readFile(join(again, 'cats-01.png'))).toEqual(await readFile(join(out, 'cats-01.png')));

    // Progress on stderr and a summary naming the job without --json; --grid-only writes just the grid.
    const only = join(home, 'only');
    const plain = await dapple([
      'samples',
      'shapes@1',
      '--label',
      'dogs',
      '-n',
      '4',
      '--steps',
      '3',
      '--grid-only',
      '-o',
      only,
    ]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/queued|running/);
    expect(plain.stderr).toContain('succeeded');
    expect(plain.stdout).toContain(`Sampled 4 images from model version ${published.version.id}`);
    expect(plain.stdout).toContain('labels dogs, guidance 3)'); // a class without --guidance: the grids' default
    expect(await readdir(only)).toEqual(['grid.png']);

    // Mistakes name the flag: checked here, or named by the hub.
    const badCount = await dapple(['samples', 'shapes@latest', '--count', '0']);
    expect([badCount.code, badCount.stderr]).toEqual([
      1,
      expect.stringContaining('--count: "0" is not a whole number from 1 to 64'),
    ]);
    const badSampler = await dapple(['samples', 'shapes@latest', '--sampler', 'euler']);
    expect(badSampler.stderr).toContain('--sampler: "euler" is not one of ddim, ddpm, dpmpp-2m, dpmpp-2m-sde');
    const badLabel = await dapple(['samples', 'shapes@latest', '--label', 'birds']);
    expect([badLabel.code, badLabel.stderr]).toEqual([
      1,
      expect.stringContaining('--label: label: "birds" is not one of'),
    ]);
    const badAlias = await dapple(['samples', 'shapes@best']);
    expect(badAlias.stderr).toContain('model "shapes" has no alias "best"');
    const unknownModel = await dapple(['samples', 'nosuch@latest']);
    expect(unknownModel.stderr).toContain('no model named "nosuch" in your teams');
  }, 600_000);
});
