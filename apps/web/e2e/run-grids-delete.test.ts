import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { RunConfigSchema } from '@dapple/contracts/run-config';
import {
  insertSucceededRun,
  listKeys,
  readyDatasetVersion,
  storedConfig,
  storeSampleGrid,
  tinyConfig,
  twoClassImages,
  type TestHub,
} from '@dapple/server/testing';
import { apiAs, newUser, screens, useDashboard, waitForPath } from './fixtures';
import { teamOf } from './live-fixtures';

// The run page's sample grids (class rows, seed columns, zoom, side by side with a compared run at the same step),
// then deleting a run, a dataset version and a dataset from the dashboard, each after saying what it frees.

/** A finished class-conditional run (2 classes, 4 samples: 2 × 2 cells of 8 px) with a grid at each step. */
async function runWithGrids(
  hub: TestHub,
  teamId: string,
  userId: string,
  versionId: string,
  name: string,
  steps: number[],
) {
  const config = RunConfigSchema.parse(
    storedConfig(tinyConfig({ steps: 20, conditioning: 'CLASS', numClasses: 2, sampleCount: 4 })),
  );
  const run = await insertSucceededRun(hub.db, {
    teamId,
    createdBy: userId,
    name,
    datasetVersionId: versionId,
    config,
    seed: 3,
  });
  const side = 2 * 8 + 3 * 2; // the trainer's imageGrid: 2 cells of 8 px and 2 px padding around them
  for (const step of steps)
    await storeSampleGrid(hub, run.id, step, {
      side,
      background: { r: step * 10, g: 60, b: 90 },
      seeds: [config.sampleSeed],
    });
  return run;
}

/** Whether every row label of the page's grids shows its whole name (no ellipsis) and starts inside its grid's box. */
function wholeRowLabels(page: Page): Promise<boolean> {
  return page.getByTestId('grid-row-label').evaluateAll((labels) =>
    labels.every((label) => {
      const box = label.closest('[data-testid$="-labelled"]')!.parentElement!.getBoundingClientRect();
      return label.scrollWidth <= label.clientWidth && label.getBoundingClientRect().left >= box.left - 0.5;
    }),
  );
}

describe('run page grids and deleting from the dashboard', () => {
  const dash = useDashboard({ hub: { runs: { executor: false } } });

  it('labels grids, zooms, compares two runs at the same step, and deletes a run, a version and a dataset', async () => {
    const shot = screens('run-grids-delete');
    const owner = newUser('owner');
    const api = await apiAs(dash.hub, owner);
    const { teamId, userId } = await teamOf(api, 'Lab', 'lab');
    const { datasetId, versionId } = await readyDatasetVersion(dash.hub, teamId, {
      name: 'pets',
      images: await twoClassImages(8, 8, ['tabby-cats', 'golden-retrievers']),
    });
    const a = await runWithGrids(dash.hub, teamId, userId, versionId, 'run-a', [10, 20]);
    const b = await runWithGrids(dash.hub, teamId, userId, versionId, 'run-b', [10]);

    const context = await dash.context(owner);
    const page = await context.newPage();
    await page.goto(`/t/lab/runs/${a.id}`);
    const grid = page.getByTestId('sample-grid');
    await grid.waitFor();
    expect(await page.getByTestId('grid-row-label').allTextContents()).toEqual(['tabby-cats', 'golden-retrievers']);
    // Every class name is shown whole and inside the card: the label column widens to the longest name.
    expect(await wholeRowLabels(page)).toBe(true);
    expect(await page.getByTestId('grid-col-label').allTextContents()).toEqual(['#1', '#2']);
    expect(await page.getByTestId('sample-grid-caption').textContent()).toMatch(/^Seed \d+: column #k is image k/);
    // A 22 px grid is drawn at 8× (fits the card), not stretched to the card's width; the zoom control changes it.
    expect(await page.getByTestId('grid-zoom').textContent()).toBe('8×');
    // The width is known once the image has loaded, which may be after the zoom label is drawn.
    await expect.poll(() => grid.evaluate((img) => img.getBoundingClientRect().width)).toBe(22 * 8);
    await page.getByRole('button', { name: 'Zoom out' }).click();
    await expect.poll(() => page.getByTestId('grid-zoom').textContent()).toBe('6×');
    await expect.poll(() => grid.evaluate((img) => img.getBoundingClientRect().width)).toBe(22 * 6);
    await shot(page, 'labelled-grid');

    // Compare with run-b: its grid beside this one, at the step this one shows (or its last before it).
    await page.locator('summary', { hasText: 'Compare' }).click();
    await page.getByLabel('run-b').check();
    const compared = page.getByTestId(`compare-grid-${b.id}`);
    await compared.waitFor();
    expect(await page.getByTestId('compare-grid-this').textContent()).toContain('run-a · step 20');
    expect(await compared.textContent()).toContain('run-b · step 10 (its last grid before 20)');
    await page.getByRole('slider', { name: /^Step/ }).fill('0');
    await expect.poll(() => compared.locator('figcaption').textContent()).toBe('run-b · step 10');
    expect(await compared.getByTestId('grid-row-label').allTextContents()).toEqual(['tabby-cats', 'golden-retrievers']);
    expect(await wholeRowLabels(page)).toBe(true);
    await shot(page, 'compare-grids');

    // Delete run-a: the confirmation says what goes; afterwards the runs list, and nothing of it in the store.
    await page.getByTestId('delete-run').click();
    const frees = page.getByTestId('delete-frees');
    await frees.waitFor();
    expect(await frees.textContent()).toMatch(
      /^Deleting run run-a frees 0 checkpoints, 2 sample grids and its metrics and logs: 2 stored objects, [\d.]+ (B|KiB)\. This cannot be undone\.$/,
    );
    await shot(page, 'delete-run-confirm');
    await page.getByRole('button', { name: 'Delete run run-a' }).click();
    await waitForPath(page, '/t/lab/runs');
    expect(await listKeys(dash.hub, `runs/${a.id}/`)).toEqual([]);
    expect(await listKeys(dash.hub, `runs/${b.id}/`)).toHaveLength(1);

    // The dataset: delete its version, then the dataset, each after saying what it frees.
    const versionKeys = await listKeys(dash.hub, `datasets/${datasetId}/v1/`);
    expect(versionKeys.length).toBeGreaterThan(0);
    await page.goto(`/t/lab/datasets/${datasetId}`);
    await page.getByTestId('delete-version-1').click();
    await frees.waitFor();
    expect(await frees.textContent()).toMatch(
      new RegExp(
        `^Deleting version 1 frees 8 prepared images: ${versionKeys.length} stored objects, [\\d.]+ (B|KiB)\\.`,
      ),
    );
    await page.getByRole('button', { name: 'Delete version 1' }).click();
    await page.getByText('No versions yet').waitFor();
    expect(await listKeys(dash.hub, `datasets/${datasetId}/v1/`)).toEqual([]);
    await page.getByTestId('delete-dataset').click();
    await frees.waitFor();
    expect(await frees.textContent()).toMatch(
      /^Deleting dataset pets frees 0 versions and every upload: 0 stored objects/,
    );
    await page.getByRole('button', { name: 'Delete dataset pets' }).click();
    await waitForPath(page, '/t/lab/datasets');
    expect(await listKeys(dash.hub, `datasets/${datasetId}/`)).toEqual([]);
    expect(dash.pageErrors).toEqual([]);
    await context.close();
  });
});
