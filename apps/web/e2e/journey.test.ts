import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { newUser, sampleOnServer, screens, signUpInForm, useTrainingDashboard, waitForPath } from './fixtures';
import { makePng } from './png';

/**
 * The whole journey of issue 7, every step through the dashboard in Chromium: sign up → create a team →
 * upload generated images (one corrupt) → start a real `tiny` run → live loss chart and sample grid →
 * cancel → resume → publish a checkpoint → a teammate accepts an invite and samples on the server →
 * a public share link opened anonymously. Nothing is set up over the API.
 *
 * The start-run form only offers steps, batch size, learning rate and seed, so the run keeps the
 * defaults for grids and checkpoints (a grid at step 0, a checkpoint whenever the run stops). It is given
 * far more steps than it will take and is stopped by cancelling: that makes the cancel/resume order
 * deterministic however fast or loaded the machine is.
 */
const TRAINING_TIMEOUT_MS = 300_000;
const RUN_STEPS = 20_000;

const pointsOf = (page: Page) => page.getByTestId('chart-Loss').getAttribute('data-points').then(Number);
const statusOf = (page: Page) => page.getByTestId('run-page').getAttribute('data-status');
const stepOf = async (page: Page) =>
  Number(
    /step ([\d,]+) of/.exec((await page.getByTestId('run-progress').textContent()) ?? '')?.[1]?.replaceAll(',', '') ??
      NaN,
  );
const markerOf = (page: Page) => page.evaluate(() => (window as unknown as { journeyMarker?: number }).journeyMarker);

/** The newest checkpoint row's step (the table lists newest first). */
async function newestCheckpointStep(page: Page): Promise<number> {
  const row = page.locator('[data-testid^="checkpoint-"]').first();
  await row.waitFor({ timeout: 60_000 });
  return Number((await row.getAttribute('data-testid'))!.slice('checkpoint-'.length));
}

/** Cancels the run from its page and waits until the trainer has checkpointed and stopped. */
async function cancelRun(page: Page): Promise<void> {
  expect(await statusOf(page)).toBe('RUNNING');
  await page.getByRole('button', { name: 'Cancel run' }).click();
  await page.getByRole('button', { name: 'Confirm cancel' }).click();
  await expect.poll(() => statusOf(page), { timeout: TRAINING_TIMEOUT_MS, interval: 250 }).toBe('CANCELLED');
  expect(await page.getByTestId('run-status').textContent()).toBe('Cancelled');
}

describe('the whole journey in the browser', () => {
  // A hub that really trains (one CPU slot, the wasm backend, as many worker threads as usable CPUs: the production
  // default) and samples (one worker).
  const dash = useTrainingDashboard('journey', {});

  it(
    'signs up, creates a team, uploads, trains live, cancels, resumes, publishes, shares with a teammate and the public',
    { timeout: 1_200_000 },
    async () => {
      const shot = screens('journey');
      const owner = newUser('journey');
      const teammate = newUser('teammate');

      // Sign up through the page: a new account lands on "create a team".
      const ownerContext = await dash.context();
      const page = await ownerContext.newPage();
      await page.goto('/');
      await waitForPath(page, '/sign-in');
      await page.getByRole('link', { name: 'Create an account' }).click();
      await waitForPath(page, '/sign-up');
      await signUpInForm(page, owner);

      // Create the team.
      await page.getByLabel('Team name').fill('Journey Lab');
      expect(await page.getByLabel('URL').inputValue()).toBe('journey-lab');
      await page.getByRole('button', { name: 'Create team' }).click();
      await waitForPath(page, '/t/journey-lab');
      await page.getByRole('heading', { level: 1, name: 'Journey Lab' }).waitFor();
      await shot(page, 'team-home');

      // Upload a folder of generated 16×16 images with one corrupt file.
      await page.getByRole('link', { name: 'Upload a dataset' }).first().click();
      await waitForPath(page, '/t/journey-lab/datasets/new');
      await page.getByLabel('Name', { exact: true }).fill('squares');
      await page.getByLabel('Resolution').selectOption('16');
      const images = Array.from({ length: 8 }, (_, i) => ({
        name: `square-${i}.png`,
        mimeType: 'image/png',
        buffer: makePng(16, 16, i + 1),
      }));
      // A PNG cut short: the right magic bytes, but it cannot be decoded.
      const corrupt = { name: 'broken.png', mimeType: 'image/png', buffer: makePng(16, 16, 99).subarray(0, 70) };
      await page.getByTestId('choose-files').setInputFiles([...images, corrupt]);
      await page.getByText('9 files').waitFor();
      await page.getByRole('button', { name: 'Upload 9 images' }).click();
      await waitForPath(page, '/t/journey-lab/datasets');
      const datasetRow = page.getByTestId('dataset-squares');
      await expect.poll(() => datasetRow.textContent(), { timeout: 180_000 }).toContain('Ready');
      expect(await datasetRow.textContent()).toContain('v1: 8 images, 1 rejected');
      await datasetRow.getByRole('link', { name: 'squares' }).click();
      await waitForPath(page, /^\/t\/journey-lab\/datasets\/[0-9a-f-]+$/);
      await page.getByRole('heading', { level: 1, name: 'squares' }).waitFor();
      expect(await page.getByTestId('rejected-broken.png').textContent()).toContain('Corrupt or unreadable image');
      await shot(page, 'dataset');

      // Start a tiny run from the form, small batch; far more steps than it will take (it is cancelled).
      await page.getByRole('navigation', { name: 'Team' }).getByRole('link', { name: 'Runs' }).click();
      await waitForPath(page, '/t/journey-lab/runs');
      await page.getByRole('link', { name: 'Start a run' }).first().click();
      await waitForPath(page, '/t/journey-lab/runs/new');
      expect(await page.getByLabel('Dataset').locator('option:checked').textContent()).toContain(
        'squares · v1 · 8 images',
      );
      await page.getByLabel('Run name').fill('journey-tiny');
      await page.getByLabel('Preset').selectOption('TINY');
      await page.getByText('Advanced settings').click();
      await page.getByLabel('Steps').fill(String(RUN_STEPS));
      await page.getByLabel('Batch size').fill('2');
      await page.getByLabel('Seed').fill('7');
      await shot(page, 'start-run');
      // "Start run" opens the run's page: the loss chart grows and a sample grid appears, without reloading.
      await page.getByRole('button', { name: 'Start run' }).click();
      await waitForPath(page, /^\/t\/journey-lab\/runs\/[0-9a-f-]+$/);
      await page.getByRole('heading', { level: 1, name: 'journey-tiny' }).waitFor();
      // A marker on the window: if anything reloaded the page, it would be gone.
      await page.evaluate(() => ((window as unknown as { journeyMarker: number }).journeyMarker = 1));
      await expect.poll(() => pointsOf(page), { timeout: TRAINING_TIMEOUT_MS, interval: 250 }).toBeGreaterThan(0);
      const first = await pointsOf(page);
      await expect.poll(() => pointsOf(page), { timeout: TRAINING_TIMEOUT_MS, interval: 250 }).toBeGreaterThan(first);
      expect(await page.getByTestId('run-progress').textContent()).toMatch(
        new RegExp(`step [\\d,]+ of ${RUN_STEPS.toLocaleString('en')}`),
      );
      const grid = page.getByTestId('sample-grid');
      await grid.waitFor({ timeout: TRAINING_TIMEOUT_MS });
      await expect
        .poll(() => grid.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), { timeout: 60_000 })
        .toBe(true);
      expect(await markerOf(page)).toBe(1);
      await shot(page, 'run-live');

      // Cancel: the trainer writes a checkpoint where it stopped.
      await cancelRun(page);
      const cancelledAt = await newestCheckpointStep(page);
      expect(cancelledAt).toBeGreaterThan(0);
      const pointsAtCancel = await pointsOf(page);
      await shot(page, 'run-cancelled');

      // Resume: it trains on from that checkpoint and the chart keeps growing in place; then stop it again
      // (a second checkpoint, later than the first) so the rest of the journey has the CPU.
      await page.getByRole('button', { name: 'Resume' }).click();
      await expect.poll(() => statusOf(page), { timeout: TRAINING_TIMEOUT_MS, interval: 250 }).toBe('RUNNING');
      await expect
        .poll(() => stepOf(page), { timeout: TRAINING_TIMEOUT_MS, interval: 250 })
        .toBeGreaterThan(cancelledAt);
      await expect
        .poll(() => pointsOf(page), { timeout: TRAINING_TIMEOUT_MS, interval: 250 })
        .toBeGreaterThan(pointsAtCancel);
      expect(await markerOf(page)).toBe(1);
      await shot(page, 'run-resumed');
      await cancelRun(page);
      const step = await newestCheckpointStep(page);
      expect(step).toBeGreaterThan(cancelledAt);
      expect(await markerOf(page)).toBe(1);

      // Publish the newest checkpoint as a model.
      const checkpoint = page.getByTestId(`checkpoint-${step}`);
      await checkpoint.getByRole('button', { name: `Publish the checkpoint at step ${step}` }).click();
      await checkpoint.getByLabel('Model name').fill('journey-squares');
      await checkpoint.getByRole('button', { name: 'Publish', exact: true }).click();
      const modelLink = page.getByTestId('published-model').getByRole('link', { name: 'journey-squares v1' });
      await modelLink.waitFor({ timeout: 60_000 });
      const modelPath = (await modelLink.getAttribute('href'))!;
      expect(modelPath).toMatch(/^\/t\/journey-lab\/models\/[0-9a-f-]+$/);
      await shot(page, 'run-published');

      // Create a public share link from the model page.
      await modelLink.click();
      await waitForPath(page, modelPath);
      await page.getByRole('heading', { level: 1, name: 'journey-squares' }).waitFor();
      await page.getByRole('button', { name: 'Share', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Share journey-squares' });
      await dialog.getByLabel('Expires after').selectOption('24');
      await dialog.getByRole('button', { name: 'Create link' }).click();
      const shareField = dialog.getByLabel('Share link (shown only now — copy it)');
      await expect.poll(() => shareField.inputValue()).toMatch(/\/share\/dpl_share_/);
      const shareUrl = await shareField.inputValue();
      await shot(page, 'share-dialog');
      await dialog.getByRole('button', { name: 'Close' }).click();

      // Invite a teammate.
      await page.getByRole('navigation', { name: 'Team' }).getByRole('link', { name: 'Members' }).click();
      await waitForPath(page, '/t/journey-lab/members');
      await page.getByLabel('Email').fill(teammate.email);
      await page.getByLabel('Role').selectOption('MEMBER');
      await page.getByRole('button', { name: 'Create invite' }).click();
      const inviteField = page.getByLabel('Invite link');
      await inviteField.waitFor();
      const inviteLink = await inviteField.inputValue();
      expect(inviteLink).toMatch(new RegExp(`^${dash.web.url}/invite/.+`));
      await shot(page, 'invite');

      // The teammate, in their own browser, signs up from the link (which joins the team) and samples from the model.
      const teammateContext = await dash.context();
      const teammatePage = await teammateContext.newPage();
      await teammatePage.goto(inviteLink);
      await teammatePage.getByRole('heading', { name: 'You’re invited to a team' }).waitFor();
      await teammatePage.getByRole('link', { name: 'Create an account' }).click();
      await waitForPath(teammatePage, '/sign-up');
      await teammatePage.getByLabel('Name', { exact: true }).fill(teammate.name);
      await teammatePage.getByLabel('Email').fill(teammate.email);
      await teammatePage.getByLabel('Password').fill(teammate.password);
      await teammatePage.getByRole('button', { name: 'Create account' }).click();
      await waitForPath(teammatePage, '/t/journey-lab');
      await teammatePage.getByRole('heading', { level: 1, name: 'Journey Lab' }).waitFor();
      await teammatePage.getByRole('navigation', { name: 'Team' }).getByRole('link', { name: 'Models' }).click();
      await waitForPath(teammatePage, '/t/journey-lab/models');
      await teammatePage.getByTestId('model-journey-squares').getByRole('link', { name: 'journey-squares' }).click();
      await waitForPath(teammatePage, modelPath);
      await teammatePage.getByRole('heading', { level: 1, name: 'journey-squares' }).waitFor();
      await sampleOnServer(teammatePage);
      await shot(teammatePage, 'teammate-sampled');
      await teammateContext.close();

      // Anyone with the share link sees the model, read-only, without an account.
      const anonymous = await dash.context();
      const publicPage = await anonymous.newPage();
      await publicPage.goto(shareUrl);
      await publicPage.getByRole('heading', { level: 1, name: 'journey-squares' }).waitFor();
      expect(await publicPage.getByRole('navigation', { name: 'Team' }).count()).toBe(0);
      expect(await publicPage.getByRole('button', { name: 'Share', exact: true }).count()).toBe(0);
      await shot(publicPage, 'shared');
      await anonymous.close();
      await ownerContext.close();
    },
  );
});
