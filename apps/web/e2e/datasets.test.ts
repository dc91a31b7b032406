import { describe, expect, it } from 'vitest';
import { apiAs, newUser, screens, useDashboard, waitForPath } from './fixtures';
import { makePng } from './png';

describe('datasets and runs in the browser', () => {
  // No trainer processes: started runs stay queued, so cancelling them is immediate and deterministic.
  const dash = useDashboard({ hub: { runs: { executor: false } } });

  it('uploads images with one corrupt file, shows the prepared dataset with the rejection, and starts and cancels a run on it', async () => {
    const shot = screens('dataset-upload');
    const user = newUser('uploader');
    const api = await apiAs(dash.hub, user);
    const team = await api.request(`mutation { createTeam(input: { name: "Pixels", slug: "pixels" }) { id } }`);
    expect(team.errors).toBeUndefined();

    const context = await dash.context(user);
    const page = await context.newPage();
    await page.goto('/t/pixels');
    // A new team: no first step done yet, and uploading a dataset is the one to do next.
    expect(await page.locator('[data-testid^="get-started-done-"]').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Upload a dataset' }).first().getAttribute('class')).toContain(
      'btn-primary',
    );
    await page.getByRole('link', { name: 'Upload a dataset' }).first().click();
    await waitForPath(page, '/t/pixels/datasets/new');

    // Submitting without name or images says what is missing, next to each.
    await page.getByRole('button', { name: /^Upload/ }).click();
    await expect.poll(() => page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#files-error').textContent()).toContain('Add some images');

    await page.getByLabel('Name', { exact: true }).fill('tiles');
    await page.getByLabel('Resolution').selectOption('32');
    const images = Array.from({ length: 6 }, (_, i) => ({
      name: `tile-${i}.png`,
      mimeType: 'image/png',
      buffer: makePng(32, 32, i + 1),
    }));
    // A PNG cut short: the right magic bytes, but it cannot be decoded.
    const corrupt = { name: 'broken.png', mimeType: 'image/png', buffer: makePng(32, 32, 99).subarray(0, 70) };
    await page.getByTestId('choose-files').setInputFiles([...images, corrupt]);
    await page.getByText('7 files').waitFor();
    await shot(page, 'chosen');

    await page.getByRole('button', { name: 'Upload 7 images' }).click();
    await waitForPath(page, '/t/pixels/datasets');
    const row = page.getByTestId('dataset-tiles');
    // Preparation runs as a background job; the page refreshes itself until the version is ready.
    await expect.poll(() => row.textContent(), { timeout: 120_000 }).toContain('Ready');
    expect(await row.textContent()).toContain('v1: 6 images, 1 rejected');
    // The preview grid is served through the dashboard's own origin.
    const preview = row.getByRole('img', { name: 'Preview of tiles' });
    await expect
      .poll(() => preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0))
      .toBe(true);
    expect(new URL((await preview.getAttribute('src'))!).origin).toBe(dash.web.url);
    await shot(page, 'prepared');

    // Its page shows the counts, the preview grid and each rejected file with the reason.
    await row.getByRole('link', { name: 'tiles' }).click();
    await waitForPath(page, /^\/t\/pixels\/datasets\/[0-9a-f-]+$/);
    await page.getByRole('heading', { level: 1, name: 'tiles' }).waitFor();
    const stat = (label: string) => page.locator('.stat', { hasText: label }).locator('.stat-value').textContent();
    expect(await stat('Images')).toBe('6');
    expect(await stat('Rejected')).toBe('1');
    const grid = page.getByRole('img', { name: 'The first images of tiles' });
    await expect.poll(() => grid.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    expect(await page.getByTestId('rejected-broken.png').textContent()).toContain('Corrupt or unreadable image');
    await shot(page, 'dataset-page');

    // The team home now marks the first step done and points at the next one, starting a run.
    await page.getByRole('navigation', { name: 'Team' }).getByRole('link', { name: 'Overview' }).click();
    await waitForPath(page, '/t/pixels');
    await page.getByTestId('get-started-done-1').waitFor();
    expect(await page.locator('[data-testid^="get-started-done-"]').count()).toBe(1);
    expect(
      await page
        .getByRole('region', { name: 'Get started' })
        .getByRole('link', { name: 'Start a run' })
        .getAttribute('class'),
    ).toContain('btn-primary');
    await shot(page, 'team-home-one-step-done');

    // Start a run on it: the presets and their defaults come from the hub, fields are checked as they are left,
    // "Start run" opens the new run's page, and the run is listed and can be cancelled.
    await page.getByRole('navigation', { name: 'Team' }).getByRole('link', { name: 'Runs' }).click();
    await waitForPath(page, '/t/pixels/runs');
    await page.getByRole('link', { name: 'Start a run' }).first().click();
    await waitForPath(page, '/t/pixels/runs/new');
    expect(await page.getByLabel('Dataset').locator('option:checked').textContent()).toContain('tiles · v1 · 6 images');
    await page.getByLabel('Run name').fill('tiles-tiny-1');
    const preset = page.getByLabel('Preset');
    expect(await preset.locator('option').allTextContents()).toEqual(['Tiny', 'Small', 'Base']);
    expect(await preset.inputValue()).toBe('TINY');
    // The tiny preset on this 32×32 dataset: the hub's description, trained at the dataset's size.
    expect(await page.getByText('A quick check that everything works').textContent()).toMatch(/at 32×32/);
    await page.getByText('Advanced settings').click();
    // Empty fields show the values the hub will use (runPresets' defaults), not "preset default".
    const placeholders = async () =>
      Promise.all(
        ['Steps', 'Batch size', 'Learning rate', 'Sample grid interval', 'Checkpoint interval'].map((label) =>
          page.getByLabel(label).getAttribute('placeholder'),
        ),
      );
    expect(await placeholders()).toEqual(['2000', '32', '0.0002', 'every 400', 'every 400']);
    await preset.selectOption('SMALL');
    expect((await placeholders())[0]).toBe('100000');
    await preset.selectOption('TINY');
    const batch = page.getByLabel('Batch size');
    await batch.fill('0');
    await batch.blur();
    await expect.poll(() => batch.getAttribute('aria-invalid')).toBe('true');
    expect(
      await page.locator(`[id="${(await batch.getAttribute('aria-describedby'))!.split(' ')[0]}"]`).textContent(),
    ).toContain('from 1 to 512');
    await shot(page, 'start-run-invalid');
    await batch.fill('4');
    await page.getByLabel('Steps').fill('20');
    await page.getByRole('button', { name: 'Start run' }).click();
    await waitForPath(page, /^\/t\/pixels\/runs\/[0-9a-f-]+$/);
    await page.getByRole('heading', { level: 1, name: 'tiles-tiny-1' }).waitFor();
    expect(await page.getByTestId('run-progress').textContent()).toContain('of 20');
    await page.getByRole('navigation', { name: 'Team' }).getByRole('link', { name: 'Runs' }).click();
    await waitForPath(page, '/t/pixels/runs');
    const run = page.getByTestId('run-tiles-tiny-1');
    expect(await run.textContent()).toContain('Queued');
    expect(await run.textContent()).toContain('step 0 of 20');
    await shot(page, 'runs');
    await run.getByRole('button', { name: 'Cancel' }).click();
    await run.getByRole('button', { name: 'Cancel “tiles-tiny-1”' }).click();
    await expect.poll(() => run.textContent()).toContain('Cancelled');
    expect(await run.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    await shot(page, 'run-cancelled');
    await context.close();
  });
});
