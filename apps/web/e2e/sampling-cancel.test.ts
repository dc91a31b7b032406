import { describe, expect, it } from 'vitest';
import { publishTinyVersion, tinyUNet } from '@dapple/server/testing';
import { apiAs, newUser, screens, useDashboard } from './fixtures';
import { teamOf } from './live-fixtures';

// The sampling playground's Cancel: a long server job stops mid-way and says so; the next one runs.
describe('cancelling a server sample job in the browser', () => {
  const dash = useDashboard({ hub: { runs: { executor: false }, sampling: { workers: 1 } } });

  it('stops a running job from the playground and keeps the page usable', async () => {
    const shot = screens('sampling-cancel');
    const owner = newUser('owner');
    const api = await apiAs(dash.hub, owner);
    const { teamId, userId } = await teamOf(api, 'Lab', 'lab');
    // 16×16 with 1000 timesteps: 64 images × 1000 steps take far longer than the test needs to click Cancel.
    const { modelId } = await publishTinyVersion(dash.hub, teamId, userId, {
      name: 'slow',
      timesteps: 1000,
      unet: tinyUNet({ resolution: 16, baseChannels: 16 }),
    });

    const context = await dash.context(owner);
    const page = await context.newPage();
    await page.goto(`/t/lab/models/${modelId}`);
    await page.getByLabel('Steps', { exact: true }).fill('1000');
    await page.getByLabel('Count', { exact: true }).fill('64');
    await page.getByRole('button', { name: 'Generate on server' }).click();
    const job = page.getByTestId('server-job');
    await job.getByText(/Sampling on the server: step [1-9]/).waitFor({ timeout: 120_000 });
    await job.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => job.getAttribute('data-status')).toBe('CANCELLED');
    await job.getByText(/Cancelled after \d+ of 1000 steps/).waitFor();
    expect(await job.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
    expect(await job.locator('img').count()).toBe(0);
    await shot(page, 'cancelled');

    // The worker is free again: a small job runs to the end.
    await page.getByLabel('Steps', { exact: true }).fill('3');
    await page.getByLabel('Count', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Generate on server' }).click();
    await expect
      .poll(() => page.getByTestId('server-job').getAttribute('data-status'), { timeout: 120_000 })
      .toBe('SUCCEEDED');
    await context.close();
  });
});
