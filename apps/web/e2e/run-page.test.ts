import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { apiAs, newUser, screens, useTrainingDashboard, waitForPath } from './fixtures';
import { tinyConfig } from '@dapple/server/testing';
import { ok, uploadDataset } from './live-fixtures';

/**
 * The run page against a hub that really trains: a `tiny` run on 16×16 generated PNGs, reporting every
 * half second, with a sample grid and checkpoints every few steps. Setup goes through the API (fast);
 * everything the test is about happens in the page, without reloads.
 */
const TRAINING_TIMEOUT_MS = 240_000;

const pointsOf = (page: Page) => page.getByTestId('chart-Loss').getAttribute('data-points').then(Number);
const statusOf = (page: Page) => page.getByTestId('run-page').getAttribute('data-status');

describe('run page', () => {
  const dash = useTrainingDashboard('runs');

  it('follows a real tiny run live: loss points and a sample grid arrive without reload, cancel, resume, publish a checkpoint, fork', async () => {
    const shot = screens('run-page');
    const user = newUser('trainer');
    const api = await apiAs(dash.hub, user);
    const teamId = ok(
      await api.request<{ createTeam: { id: string } }>(
        `mutation { createTeam(input: { name: "Lab", slug: "lab" }) { id } }`,
      ),
      'createTeam',
    ).createTeam.id;
    const { versionId } = await uploadDataset(api, teamId, 8);
    // The server tests' tiny config at 16×16, with more steps so the page sees the run while it trains.
    const config = tinyConfig({
      model: { resolution: 16, baseChannels: 8, groups: 4, attentionResolutions: [8] },
      steps: 300,
      batchSize: 4,
      // A 4×4 grid (the default count): wide enough that a zoom fitting the page, not the card, overflows the card.
      sampleCount: 16,
    });
    const run = ok(
      await api.request<{ startRun: { id: string } }>(
        `mutation ($input: StartRunInput!) { startRun(input: $input) { id } }`,
        {
          input: { datasetVersionId: versionId, name: 'squares-tiny', seed: 7, config },
        },
      ),
      'startRun',
    ).startRun;

    // The runs list links to the run page.
    const context = await dash.context(user);
    const page = await context.newPage();
    await page.goto('/t/lab/runs');
    await page.getByRole('link', { name: 'squares-tiny' }).click();
    await waitForPath(page, `/t/lab/runs/${run.id}`);
    await page.getByRole('heading', { level: 1, name: 'squares-tiny' }).waitFor();
    // A marker on the window: if anything reloaded the page, it would be gone.
    await page.evaluate(() => ((window as unknown as { runPageMarker: number }).runPageMarker = 1));

    // Live: loss points arrive over the subscription and the chart grows in place.
    await expect.poll(() => pointsOf(page), { timeout: TRAINING_TIMEOUT_MS, interval: 250 }).toBeGreaterThan(0);
    const first = await pointsOf(page);
    await expect.poll(() => pointsOf(page), { timeout: TRAINING_TIMEOUT_MS, interval: 250 }).toBeGreaterThan(first);
    expect(await page.getByTestId('metrics-live').getAttribute('data-status')).toBe('live');
    expect(await page.getByTestId('run-progress').textContent()).toMatch(/step \d+ of 300/);

    // A sample grid appears (the step-0 grid comes first) and loads through the dashboard's origin.
    const grid = page.getByTestId('sample-grid');
    await grid.waitFor({ timeout: TRAINING_TIMEOUT_MS });
    await expect
      .poll(() => grid.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), { timeout: 60_000 })
      .toBe(true);
    expect(await page.evaluate(() => (window as unknown as { runPageMarker?: number }).runPageMarker)).toBe(1);
    // Its default zoom fits the Samples card as laid out (the two-column layout makes the card narrower than the
    // page): the whole grid shows without scrolling sideways.
    // Polled: a newer grid arriving re-renders the image, and a box read in between is null.
    const cardBody = page.locator('section[aria-labelledby="samples-heading"] .card-body');
    const fits = async () => {
      const [gridBox, bodyBox] = [await grid.boundingBox(), await cardBody.boundingBox()];
      return gridBox && bodyBox ? gridBox.x + gridBox.width <= bodyBox.x + bodyBox.width : 'not laid out';
    };
    await expect.poll(fits, { timeout: 30_000 }).toBe(true);
    await shot(page, 'live');

    // Cancel: the trainer checkpoints and stops; the page follows over runUpdated.
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.getByRole('button', { name: 'Confirm cancel' }).click();
    await expect.poll(() => statusOf(page), { timeout: TRAINING_TIMEOUT_MS, interval: 250 }).toBe('CANCELLED');
    expect(await page.getByTestId('run-status').textContent()).toBe('Cancelled');
    expect(await page.getByRole('button', { name: 'Cancel run' }).isDisabled()).toBe(true);
    await shot(page, 'cancelled');

    // Resume: back in the queue, then training again from the last checkpoint, until it finishes.
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect
      .poll(() => statusOf(page), { timeout: 60_000, interval: 250 })
      .toMatch(/QUEUED|STARTING|RUNNING|SUCCEEDED/);
    expect(await page.getByRole('button', { name: 'Resume' }).isDisabled()).toBe(true);
    await expect.poll(() => statusOf(page), { timeout: TRAINING_TIMEOUT_MS, interval: 500 }).toBe('SUCCEEDED');
    expect(await page.getByTestId('run-progress').textContent()).toContain('step 300 of 300');
    expect(await page.evaluate(() => (window as unknown as { runPageMarker?: number }).runPageMarker)).toBe(1);

    // Publish the final checkpoint: a link to the new model appears.
    const checkpoint = page.getByTestId('checkpoint-300');
    await checkpoint.getByRole('button', { name: 'Publish the checkpoint at step 300' }).click();
    await checkpoint.getByLabel('Model name').fill('squares');
    await checkpoint.getByRole('button', { name: 'Publish', exact: true }).click();
    const link = page.getByTestId('published-model').getByRole('link', { name: 'squares v1' });
    await link.waitFor({ timeout: 60_000 });
    expect(await link.getAttribute('href')).toMatch(/^\/t\/lab\/models\/[0-9a-f-]+$/);

    // The reproducibility panel names the seed and the dataset version's content hash.
    expect(await page.getByTestId('dataset-hash').textContent()).toMatch(/\w{8,}/);
    await page.getByRole('heading', { name: 'Logs' }).scrollIntoViewIfNeeded();
    expect(await page.getByTestId('run-logs').textContent()).not.toBe('');
    // The trainer's backend (and GPU adapter, on webgpu) from its `compute:` log line.
    expect(await page.getByTestId('run-compute').textContent()).toBe('wasm');
    await shot(page, 'published');

    // Fork from the checkpoint before last: the new run is linked, and trains its last 10 steps.
    await page.getByRole('button', { name: 'Fork…' }).click();
    const fork = page.getByRole('form', { name: 'Fork this run' });
    await fork.getByLabel('From checkpoint at step').selectOption('290');
    await fork.getByLabel('New run name').fill('squares-fork');
    await fork.getByLabel('Total steps').fill('290');
    await fork.getByRole('button', { name: 'Fork run' }).click();
    // Checked in the page before it reaches the API: the error is next to the field.
    expect(await fork.getByLabel('Total steps').getAttribute('aria-invalid')).toBe('true');
    await fork.getByLabel('Total steps').fill('300');
    await fork.getByRole('button', { name: 'Fork run' }).click();
    await page.getByRole('link', { name: 'squares-fork' }).click();
    await waitForPath(page, /^\/t\/lab\/runs\/[0-9a-f-]+$/);
    await page.getByRole('heading', { level: 1, name: 'squares-fork' }).waitFor();
    await expect.poll(() => statusOf(page), { timeout: TRAINING_TIMEOUT_MS, interval: 500 }).toBe('SUCCEEDED');
    expect(await page.getByRole('link', { name: 'parent run' }).getAttribute('href')).toBe(`/t/lab/runs/${run.id}`);
    await context.close();
  });
});
