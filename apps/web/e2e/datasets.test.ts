import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiAs, newUser, screens, startDashboard, waitForPath, type Dashboard } from './fixtures';
import { makePng } from './png';

describe('datasets in the browser', () => {
  let dash: Dashboard;
  beforeAll(async () => {
    dash = await startDashboard();
  });
  afterAll(async () => {
    await dash?.close();
  });
  afterEach(() => {
    expect(dash.pageErrors.splice(0)).toEqual([]);
  });

  it('uploads images with one corrupt file, and shows the prepared dataset with the rejection', async () => {
    const shot = screens('dataset-upload');
    const user = newUser('uploader');
    const api = await apiAs(dash.hub, user);
    const team = await api.request(`mutation { createTeam(input: { name: "Pixels", slug: "pixels" }) { id } }`);
    expect(team.errors).toBeUndefined();

    const context = await dash.context(user);
    const page = await context.newPage();
    await page.goto('/t/pixels');
    await page.getByRole('link', { name: 'Upload a dataset' }).first().click();
    await waitForPath(page, '/t/pixels/datasets/new');

    // Submitting without name or images says what is missing, next to each.
    await page.getByRole('button', { name: /^Upload/ }).click();
    await expect.poll(() => page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#files-error').textContent()).toContain('Add some images');

    await page.getByLabel('Name', { exact: true }).fill('tiles');
    await page.getByLabel('Resolution').selectOption('32');
    const images = Array.from({ length: 6 }, (_, i) => ({ name: `tile-${i}.png`, mimeType: 'image/png', buffer: makePng(32, 32, i + 1) }));
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
    await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
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
    await context.close();
  });
});
