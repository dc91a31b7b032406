import { describe, expect, it } from 'vitest';
import { openSlowModelPlayground, screens, useDashboard } from './fixtures';

// The sampling playground's Cancel: a long server job stops mid-way and says so; the next one runs.
describe('cancelling a server sample job in the browser', () => {
  const dash = useDashboard({ hub: { runs: { executor: false }, sampling: { workers: 1 } } });

  it('stops a running job from the playground and keeps the page usable', async () => {
    const shot = screens('sampling-cancel');
    const { context, page } = await openSlowModelPlayground(dash);
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
