import { insertMetricPoints, runs } from '@dapple/db';
import { finishedRunWithCheckpoints } from '@dapple/server/testing';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  apiAs,
  clippedIn,
  imagesLoaded,
  newUser,
  screens,
  unfilledRows,
  useTrainingDashboard,
  waitForPath,
  waitForServerJob,
} from './fixtures';
import { ok, reportingRun, teamOf, uploadDataset } from './live-fixtures';

/**
 * Glow in the dashboard (#16 item 5), with one hub that really trains (wasm) and samples: the new-run form
 * offers the architecture with its presets and fields, a glow-tiny run started there charts train and held-out
 * bits/dim, the compare overlay puts a DDPM run's held-out bits/dim and images/s beside it, and the playground
 * samples a published Glow version at a chosen temperature, on the server and in the browser, and interpolates
 * between two of its training images.
 */
const TRAINING_TIMEOUT_MS = 300_000;

const pointsOf = (page: Page, chart: string) =>
  page.getByTestId(`chart-${chart}`).getAttribute('data-points').then(Number);
const statusOf = (page: Page) => page.getByTestId('run-page').getAttribute('data-status');

describe('Glow in the dashboard', () => {
  const dash = useTrainingDashboard('glow');

  const owner = newUser('glow');
  let runId = '';
  let glowVersionId = '';
  let team = { teamId: '', userId: '', datasetVersionId: '' };

  it('the form starts a glow-tiny run whose page charts held-out bits/dim, compared with a DDPM run', async () => {
    const shot = screens('glow');
    const api = await apiAs(dash.hub, owner);
    const { teamId, userId } = await teamOf(api, 'Flows', 'flows');
    // 10 images: 2 held out (a fifth), 8 to train on.
    const { versionId: datasetVersionId } = await uploadDataset(api, teamId, 10);
    team = { teamId, userId, datasetVersionId };

    const context = await dash.context(owner);
    const page = await context.newPage();
    await page.goto('/t/flows/runs/new');
    await page.getByLabel('Run name').fill('glow-e2e');
    // The architectures and their presets come from runPresets: picking Glow offers Glow's presets only.
    const architecture = page.getByLabel('Architecture');
    expect(await architecture.locator('option').allTextContents()).toEqual(['Diffusion (DDPM)', 'Flow (Glow)']);
    await architecture.selectOption('GLOW');
    const preset = page.getByLabel('Preset');
    expect(await preset.locator('option').allTextContents()).toEqual(['Glow tiny', 'Glow small', 'Glow base']);
    expect(await preset.inputValue()).toBe('GLOW_TINY');
    await page.getByText('Advanced settings').click();
    // Glow's own fields: coupling (no label dropout), and its defaults as placeholders.
    expect(await page.getByLabel('Label dropout').count()).toBe(0);
    expect(await page.getByLabel('Coupling').locator('option').first().textContent()).toBe('Preset default (affine)');
    expect(await page.getByLabel('Learning rate').getAttribute('placeholder')).toBe('0.001');
    expect(await page.getByLabel('Held-out bits/dim interval').getAttribute('placeholder')).toBe('every 250');
    await page.getByLabel('Steps').fill('20');
    await page.getByLabel('Batch size').fill('4');
    await page.getByLabel('Held-out bits/dim interval').fill('10');
    await shot(page, 'form');
    await page.getByRole('button', { name: 'Start run' }).click();
    await waitForPath(page, /\/t\/flows\/runs\/(?!new$)[^/]+$/);
    // The page's URL carries a short id: the API names the run by its full one.
    const rows = await dash.hub.db.select({ id: runs.id, name: runs.name }).from(runs);
    runId = rows.find((r) => r.name === 'glow-e2e')!.id;

    await expect.poll(() => statusOf(page), { timeout: TRAINING_TIMEOUT_MS, interval: 500 }).toBe('SUCCEEDED');
    // Held-out bits/dim at steps 0 (after the actnorm init), 10 and 20; train bits/dim every step.
    await expect.poll(() => pointsOf(page, 'Held-out bits/dim'), { timeout: 60_000 }).toBe(3);
    await expect.poll(() => pointsOf(page, 'Train bits/dim'), { timeout: 60_000 }).toBe(20);
    const stored = ok(
      await api.request<{ run: { config: { architecture: string; preset: string; heldOutEvery: number } } }>(
        `query ($id: ID!) { run(id: $id) { config { architecture preset heldOutEvery } } }`,
        { id: runId },
      ),
      'run',
    );
    expect(stored.run.config).toEqual({ architecture: 'GLOW', preset: 'GLOW_TINY', heldOutEvery: 10 });
    // The config facts state the schedule the learning-rate chart shows (Glow's warm-up) and its clipping.
    const facts = await page.locator('section[aria-labelledby="config-heading"]').textContent();
    expect(facts).toContain('adam, lr 0.001 (constant after a 200-step warm-up), gradients clipped at norm 50');
    expect(facts).not.toContain('null');

    // A DDPM run on the team (reporting as a trainer would): overlaid on the bits/dim and images/s charts.
    const ddpm = await reportingRun(dash.hub, teamId, userId, 'ddpm-run');
    await ddpm.report(0, 21, (s) => 7 - s / 10, 'held_out_bits_per_dim');
    await ddpm.report(0, 4, () => 40, 'images_per_sec');
    await ddpm.finish(20);
    // The Glow run's own images/s points: a run this short may have recorded none, and then the chart is absent.
    const imagesChart = page.getByTestId('chart-Images/s');
    const ownImages = (await imagesChart.count()) > 0 ? await pointsOf(page, 'Images/s') : 0;
    await page.getByTestId('run-page').locator('summary', { hasText: 'Compare' }).click();
    await page.getByRole('checkbox', { name: /ddpm-run/ }).check();
    await expect.poll(() => pointsOf(page, 'Held-out bits/dim'), { timeout: 60_000 }).toBe(3 + 21);
    await expect.poll(() => pointsOf(page, 'Images/s'), { timeout: 60_000 }).toBe(ownImages + 4);
    // Neither run has a published version yet: the Evaluations table says how to get one.
    await page
      .getByTestId('compare-evaluations-empty')
      .getByText(/publish a checkpoint/)
      .waitFor();
    await shot(page, 'compared');
    await context.close();
  });

  it('the playground samples a Glow version at a temperature, on the server and in the browser, and interpolates', async () => {
    expect(runId, 'the first test trains the run').not.toBe('');
    const api = await apiAs(dash.hub, owner);
    const published = ok(
      await api.request<{ publishModel: { model: { id: string }; version: { id: string } } }>(
        `mutation ($input: PublishModelInput!) { publishModel(input: $input) { model { id } version { id } } }`,
        { input: { runId, step: 20, modelName: 'flow' } },
      ),
      'publishModel',
    ).publishModel;
    glowVersionId = published.version.id;

    const context = await dash.context(owner);
    const page = await context.newPage();
    await page.goto(`/t/flows/models/${published.model.id}`);
    // One inverse pass: a temperature, no steps, sampler or eta.
    await page.getByTestId('temperature').waitFor();
    expect(await page.getByLabel('Steps', { exact: true }).count()).toBe(0);
    expect(await page.getByLabel('Temperature', { exact: true }).inputValue()).toBe('0.7');
    // Seed, Count and Temperature fill the first row (Temperature's slider and hint take two tracks); before, Count
    // was third in a row of four, the two-track device select below it, and Temperature's hint ran to three lines.
    const playground = page.locator('section', { has: page.getByRole('heading', { name: 'Sampling playground' }) });
    for (const width of [1280, 900, 390]) {
      await page.setViewportSize({ width, height: 800 });
      expect(await clippedIn(playground), `sampling playground at ${width} px`).toEqual([]);
      expect(await unfilledRows(playground.getByTestId('playground-fields')), `playground rows at ${width} px`).toEqual(
        [],
      );
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    // The slider and the field are one setting. The server-rendered slider is there before React hydrates it, and a
    // value set before that is lost: the form's submit button is enabled once the page has hydrated.
    await page.locator('button:enabled', { hasText: 'Generate on server' }).waitFor();
    await page.getByLabel('Temperature slider').fill('0.5');
    await expect.poll(() => page.getByLabel('Temperature', { exact: true }).inputValue()).toBe('0.5');
    // A temperature out of range is refused by name before anything is sent.
    await page.getByLabel('Temperature', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Generate on server' }).click();
    await page.getByText('Temperature must be a number above 0 and at most 2.').waitFor();
    await page.getByLabel('Temperature', { exact: true }).fill('0.5');
    await page.getByLabel('Count', { exact: true }).fill('4');

    await page.getByRole('button', { name: 'Generate on server' }).click();
    const job = await waitForServerJob(page, 4);
    expect(await job.getByRole('status').textContent()).toMatch(/4 images · seed 1 · temperature 0\.5 \(one pass\)/);

    await page.getByRole('button', { name: 'Generate in browser' }).click();
    const browser = page.getByTestId('browser-samples');
    await expect.poll(() => browser.getAttribute('data-status'), { timeout: 180_000 }).toMatch(/done|failed/);
    expect(await browser.getAttribute('data-status'), (await browser.textContent()) ?? '').toBe('done');
    await expect.poll(() => imagesLoaded(page, '[data-testid="browser-samples"] img'), { timeout: 60_000 }).toBe(4);

    // Interpolation between two training images (picked by index, shown as thumbnails): the strip of frames.
    const interp = page.getByTestId('interpolation');
    await interp.getByRole('img', { name: 'Training image 0' }).waitFor();
    await interp.getByLabel('Last image').fill('999');
    await interp.getByRole('button', { name: 'Interpolate on server' }).click();
    await interp.getByText(/^An image index from 0 to \d+$/).waitFor();
    await interp.getByLabel('Last image').fill('3');
    await interp.getByRole('img', { name: 'Training image 3' }).waitFor();
    await interp.getByLabel('Frames').fill('5');
    await interp.getByRole('button', { name: 'Interpolate on server' }).click();
    const strip = await waitForServerJob(page, 5, {
      within: interp,
      images: '[data-testid="interpolation-strip"] img',
    });
    expect(await strip.getByRole('status').textContent()).toMatch(/^5 frames from training image 0 to 3$/);
    await screens('glow')(page, 'interpolation');
    await context.close();
  });

  it('the compare view sets the Glow version’s KID beside a DDPM version’s, measured the same way', async () => {
    expect(glowVersionId, 'the second test publishes the Glow version').not.toBe('');
    const api = await apiAs(dash.hub, owner);
    // A DDPM run on the same dataset version (16×16 RGB) with a real checkpoint, as a trainer leaves it.
    const { run: ddpm } = await finishedRunWithCheckpoints(dash.hub, team.teamId, team.userId, [20], {
      dataset: { versionId: team.datasetVersionId, resolution: 16, channels: 3 },
      name: 'ddpm-kid',
    });
    await insertMetricPoints(dash.hub.hub.pool, ddpm.id, [
      { key: 'held_out_bits_per_dim', step: 20, value: 6.25 },
      { key: 'images_per_sec', step: 20, value: 40 },
    ]);
    const ddpmVersionId = ok(
      await api.request<{ publishModel: { version: { id: string } } }>(
        `mutation ($input: PublishModelInput!) { publishModel(input: $input) { version { id } } }`,
        { input: { runId: ddpm.id, step: 20, modelName: 'unet' } },
      ),
      'publishModel',
    ).publishModel.version.id;
    // The smallest evaluation the API allows (10 samples, 2 DDPM steps, the offline extractor): seconds, and the
    // same settings for both, so the two KIDs share a comparableKey.
    for (const modelVersionId of [glowVersionId, ddpmVersionId]) {
      const { id } = ok(
        await api.request<{ evaluateModel: { id: string } }>(
          `mutation ($input: EvaluateModelInput!) { evaluateModel(input: $input) { id } }`,
          {
            input: {
              modelVersionId,
              datasetVersionId: team.datasetVersionId,
              numSamples: 10,
              steps: 2,
              extractor: 'OFFLINE',
            },
          },
        ),
        'evaluateModel',
      ).evaluateModel;
      const status = () =>
        api
          .request<{ evaluation: { status: string; error: string | null } }>(
            `query ($id: ID!) { evaluation(id: $id) { status error } }`,
            { id },
          )
          .then((r) => ok(r, 'evaluation').evaluation);
      await expect
        .poll(async () => (await status()).status, { timeout: 180_000, interval: 250 })
        .toMatch(/SUCCEEDED|FAILED/);
      expect(await status()).toEqual({ status: 'SUCCEEDED', error: null });
    }

    const context = await dash.context(owner);
    const page = await context.newPage();
    await page.goto(`/t/flows/runs/${runId}`);
    await page.getByTestId('run-page').locator('summary', { hasText: 'Compare' }).click();
    await page.getByRole('checkbox', { name: /ddpm-kid/ }).check();
    const rows = page.getByTestId('evaluation-compare-row');
    await expect.poll(() => rows.count(), { timeout: 60_000 }).toBe(2);
    // One comparable group: the Glow row and the DDPM row side by side, each with a KID and its run's numbers.
    expect(await page.getByTestId('evaluation-compare-group').count()).toBe(1);
    const cells = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({
        run: tr.getAttribute('data-run'),
        architecture: tr.getAttribute('data-architecture'),
        kid: Number(tr.getAttribute('data-kid')),
        text: [...tr.querySelectorAll('td')].map((td) => td.textContent),
      })),
    );
    expect(cells.map((c) => [c.run, c.architecture])).toEqual([
      ['glow-e2e', 'GLOW'],
      ['ddpm-kid', 'DDPM'],
    ]);
    for (const c of cells) {
      expect(Number.isFinite(c.kid)).toBe(true);
      expect(c.text[3]).toMatch(/^-?[\d.e+-]+ ± /);
    }
    expect(cells[0]!.text[2]).toMatch(/^flow v1 · step 20$/);
    expect(cells[1]!.text.slice(2)).toEqual([
      'unet v1 · step 20',
      expect.any(String),
      expect.any(String),
      '—',
      '6.25',
      '40',
    ]);
    await screens('glow')(page, 'evaluations');
    await context.close();
  }, 300_000);
});
