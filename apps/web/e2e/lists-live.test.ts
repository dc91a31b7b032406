import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { apiAs, newUser, screens, useDashboard } from './fixtures';
import { ok, teamOf, uploadDataset, uploadVersion } from './live-fixtures';

/**
 * The datasets and runs lists follow the team's activity over the teamActivity subscription: what is
 * created, prepared, started or cancelled through the API shows up in the open page, without a reload
 * and without polling (the lists poll only while the socket is down).
 */
const marked = (page: Page) => page.evaluate(() => (window as unknown as { listMarker?: number }).listMarker);
const mark = (page: Page) => page.evaluate(() => ((window as unknown as { listMarker: number }).listMarker = 1));
const badgeOf = (page: Page, testId: string) => page.getByTestId(testId).locator('.badge').first().textContent();

describe('live team lists', () => {
  // No executor: started runs stay queued until the test cancels them.
  const dash = useDashboard({ hub: { runs: { executor: false }, jobs: { pollingIntervalSeconds: 0.5 } } });

  /** The page's subscription is registered on the hub (events before that would be missed by design). */
  const subscribed = () =>
    expect.poll(() => dash.hub.hub.services.teamActivity.subscriberCount, { timeout: 60_000 }).toBe(1);

  it('a dataset created and prepared through the API appears in the open datasets list, then a run started and cancelled in the runs list', async () => {
    const shot = screens('lists-live');
    const user = newUser('lists');
    const api = await apiAs(dash.hub, user);
    const { teamId } = await teamOf(api, 'Lists', 'lists');

    const context = await dash.context(user);
    const page = await context.newPage();
    await page.goto('/t/lists/datasets');
    await page.getByRole('heading', { name: '0 datasets', exact: true }).waitFor();
    await expect
      .poll(() => page.getByTestId('list-live').getAttribute('data-status'), { timeout: 60_000 })
      .toBe('live');
    await subscribed();
    await mark(page);

    // Created: the list shows it (no versions yet); an upload makes a version that is prepared, then ready.
    const datasetId = ok(
      await api.request<{ createDataset: { id: string } }>(
        `mutation ($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`,
        {
          input: { teamId, name: 'squares', resolution: 16, channels: 3 },
        },
      ),
      'createDataset',
    ).createDataset.id;
    await page.getByTestId('dataset-squares').waitFor({ timeout: 60_000 });
    expect(await badgeOf(page, 'dataset-squares')).toBe('Empty');
    await uploadVersion(api, datasetId, 6);
    await expect.poll(() => badgeOf(page, 'dataset-squares'), { timeout: 120_000, interval: 250 }).toBe('Ready');
    expect(await page.getByTestId('dataset-squares').textContent()).toContain('v1: 6 images');
    expect(await marked(page)).toBe(1);
    await shot(page, 'datasets');

    // A second dataset, through the whole upload protocol, while the page stays open.
    await uploadDataset(api, teamId, 4, 'circles');
    await expect.poll(() => badgeOf(page, 'dataset-circles'), { timeout: 60_000, interval: 250 }).toBe('Ready');
    expect(await page.getByRole('heading', { level: 2 }).first().textContent()).toBe('2 datasets');
    expect(await marked(page)).toBe(1);

    // The runs list: a run started through the API appears; cancelling it changes its status in place.
    await page.goto('/t/lists/runs');
    await page.getByRole('heading', { name: 'No runs', exact: true }).waitFor();
    await expect
      .poll(() => page.getByTestId('list-live').getAttribute('data-status'), { timeout: 60_000 })
      .toBe('live');
    await subscribed();
    await mark(page);
    const versionId = ok(
      await api.request<{ dataset: { versions: { id: string }[] } }>(
        `query ($id: ID!) { dataset(id: $id) { versions { id } } }`,
        { id: datasetId },
      ),
      'dataset',
    ).dataset.versions[0]!.id;
    const runId = ok(
      await api.request<{ startRun: { id: string } }>(
        `mutation ($input: StartRunInput!) { startRun(input: $input) { id } }`,
        {
          input: { datasetVersionId: versionId, name: 'api-run', config: { preset: 'TINY', steps: 100 } },
        },
      ),
      'startRun',
    ).startRun.id;
    await page.getByTestId('run-api-run').waitFor({ timeout: 60_000 });
    expect(await badgeOf(page, 'run-api-run')).toBe('Queued');
    await shot(page, 'runs-queued');
    ok(await api.request(`mutation ($id: ID!) { cancelRun(id: $id) { status } }`, { id: runId }), 'cancelRun');
    await expect.poll(() => badgeOf(page, 'run-api-run'), { timeout: 60_000, interval: 250 }).toBe('Cancelled');
    expect(await marked(page)).toBe(1);
    await context.close();
  });
});
