import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { apiAs, newUser, screens, useDashboard } from './fixtures';
import { reportingRun, teamOf } from './live-fixtures';

/**
 * The run page's charts beyond the run itself: runs overlaid for comparison keep updating while they
 * report (and stop being followed when they finish or are taken out), and a zoomed chart fetches its
 * step range at full resolution. No trainer processes: the runs report through the trainer API.
 */
const loss = (page: Page) => page.getByTestId('chart-Loss');
const attr = (page: Page, name: string) => loss(page).getAttribute(name);
const pointsOf = (page: Page) => attr(page, 'data-points').then(Number);

/** Drags across the plot between two fractions of its width (uPlot's drag-to-zoom). */
async function drag(
  page: Page,
  box: { x: number; y: number; width: number; height: number },
  from: number,
  to: number,
) {
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * from, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * to, y, { steps: 5 });
  await page.mouse.up();
}

describe('run page charts', () => {
  const dash = useDashboard({ hub: { runs: { executor: false } } });

  /** Subscriptions the hub holds for a run's metrics / status (the page's sockets, seen from the server). */
  const listeners = (runId: string) => {
    const pubsub = dash.hub.hub.services.runSignals.pubsub;
    return pubsub.listenerCount(`run:${runId}:metrics`) + pubsub.listenerCount(`run:${runId}:updated`);
  };

  it('compared runs that still report update live, and are let go when they finish or are taken out', async () => {
    const user = newUser('compare');
    const api = await apiAs(dash.hub, user);
    const { teamId, userId } = await teamOf(api, 'Overlay', 'overlay');
    const main = await reportingRun(dash.hub, teamId, userId, 'main-run');
    const other = await reportingRun(dash.hub, teamId, userId, 'other-run');
    const third = await reportingRun(dash.hub, teamId, userId, 'third-run');
    await main.report(0, 5);
    await other.report(0, 5, (s) => 2 / (1 + s));
    await third.report(0, 3);

    const context = await dash.context(user);
    const page = await context.newPage();
    await page.goto(`/t/overlay/runs/${main.id}`);
    await expect.poll(() => pointsOf(page), { timeout: 60_000 }).toBe(5);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));

    await page.getByTestId('run-page').locator('summary', { hasText: 'Compare' }).click();
    await page.getByRole('checkbox', { name: /other-run/ }).check();
    await page.getByRole('checkbox', { name: /third-run/ }).check();
    await expect.poll(() => pointsOf(page), { timeout: 60_000 }).toBe(5 + 5 + 3);
    // Each compared run that is still running is followed over the socket (its points and its status).
    await expect.poll(() => listeners(other.id), { timeout: 60_000 }).toBe(2);
    await expect.poll(() => listeners(third.id), { timeout: 60_000 }).toBe(2);

    // New points of a compared run reach the chart without a reload.
    await other.report(5, 12, (s) => 2 / (1 + s));
    await expect.poll(() => pointsOf(page), { timeout: 60_000 }).toBe(5 + 12 + 3);
    await third.report(3, 6);
    await expect.poll(() => pointsOf(page), { timeout: 60_000 }).toBe(5 + 12 + 6);
    await screens('compare-live')(page, 'compared');

    // A compared run that finishes is no longer followed; its points stay.
    await other.finish(11);
    await expect.poll(() => listeners(other.id), { timeout: 60_000 }).toBe(0);
    expect(await pointsOf(page)).toBe(5 + 12 + 6);

    // Taken out of the comparison: its line and its subscriptions go.
    await page.getByRole('checkbox', { name: /third-run/ }).uncheck();
    await expect.poll(() => listeners(third.id), { timeout: 60_000 }).toBe(0);
    await expect.poll(() => pointsOf(page), { timeout: 60_000 }).toBe(5 + 12);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
    await context.close();
  });

  it('a zoomed chart shows its step range at full resolution, and double-click goes back to the overview', async () => {
    const user = newUser('zoom');
    const api = await apiAs(dash.hub, user);
    const { teamId, userId } = await teamOf(api, 'Zoom', 'zoom');
    const run = await reportingRun(dash.hub, teamId, userId, 'long-run');
    const STEPS = 5000;
    await run.report(0, STEPS, (s) => 1 + Math.sin(s / 7));

    const context = await dash.context(user);
    const page = await context.newPage();
    await page.goto(`/t/zoom/runs/${run.id}`);
    // The overview: 5000 steps in about 1000 buckets of 5 steps.
    await expect.poll(() => pointsOf(page), { timeout: 60_000 }).toBeGreaterThan(0);
    const overview = await pointsOf(page);
    expect(overview).toBeLessThanOrEqual(1000);
    expect(await attr(page, 'data-zoom')).toBeNull();

    // Drag across a narrow band of the plot (uPlot's drag-to-zoom).
    const plot = loss(page).locator('.u-over');
    const box = (await plot.boundingBox())!;
    await drag(page, box, 0.4, 0.45);
    await expect.poll(() => attr(page, 'data-zoom'), { timeout: 60_000 }).toMatch(/^\d+-\d+$/);
    const [from, to] = (await attr(page, 'data-zoom'))!.split('-').map(Number) as [number, number];
    expect(to - from).toBeGreaterThan(50);
    expect(to - from).toBeLessThan(1000);

    // The range is read again at the chart's resolution: many more points in view than the overview's
    // one per 5 steps (every step, unless the range is wider than the plot in pixels).
    await expect
      .poll(() => page.getByTestId('run-chart-Loss').getAttribute('data-detailed'), { timeout: 60_000 })
      .toBe('true');
    const expected = Math.min(to - from, Math.round(box.width));
    await expect
      .poll(() => attr(page, 'data-visible-points').then(Number), { timeout: 60_000 })
      .toBeGreaterThan(Math.max(((to - from) / 5) * 2, expected * 0.8));
    expect(await attr(page, 'data-zoom')).toBe(`${from}-${to}`);
    await screens('compare-live')(page, 'zoomed');

    // Double-click: back to the overview of every step.
    await plot.dblclick();
    await expect.poll(() => attr(page, 'data-zoom'), { timeout: 60_000 }).toBeNull();
    await expect
      .poll(() => page.getByTestId('run-chart-Loss').getAttribute('data-detailed'), { timeout: 60_000 })
      .toBe('false');
    await expect.poll(() => pointsOf(page), { timeout: 60_000 }).toBe(overview);
    expect(await attr(page, 'data-visible-points').then(Number)).toBe(overview);

    // The same without a mouse: the "All steps" button under a zoomed chart.
    await drag(page, box, 0.6, 0.7);
    await expect.poll(() => attr(page, 'data-zoom'), { timeout: 60_000 }).toMatch(/^\d+-\d+$/);
    await page.getByTestId('run-chart-Loss').getByRole('button', { name: 'All steps' }).click();
    await expect.poll(() => attr(page, 'data-zoom'), { timeout: 60_000 }).toBeNull();
    await expect.poll(() => attr(page, 'data-visible-points').then(Number), { timeout: 60_000 }).toBe(overview);
    await context.close();
  });
});
