import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { finishedRunWithCheckpoints } from '@dapple/server/testing';
import { apiAs, newUser, useDashboard, waitForPath } from './fixtures';
import { teamOf } from './live-fixtures';

// Chromium warns "The resource … was preloaded using link preload but not used within a few seconds" for every
// stylesheet a page preloads and then does not apply: <Link> prefetches of other routes used to preload those
// routes' CSS-module chunks (vercel/next.js#51524), 29 warnings in a short session.

/** Stylesheets the page preloads but does not apply: what Chromium warns about a few seconds after load. */
function unusedStylePreloads(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const applied = new Set(
      [...document.querySelectorAll<HTMLLinkElement>('link[rel="stylesheet"]')].map((link) => link.href),
    );
    return [...document.querySelectorAll<HTMLLinkElement>('link[rel="preload"][as="style"]')]
      .map((link) => link.href)
      .filter((href) => !applied.has(href));
  });
}

describe('preloaded stylesheets', () => {
  const dash = useDashboard({ hub: { runs: { executor: false } } });

  it('preloads no stylesheet that a page does not use, on any main page', async () => {
    const owner = newUser('owner');
    const api = await apiAs(dash.hub, owner);
    const { teamId, userId } = await teamOf(api, 'Lab', 'lab');
    const { run } = await finishedRunWithCheckpoints(dash.hub, teamId, userId, [20]);
    const published = await api.request<{ publishModel: { model: { id: string } } }>(
      `mutation ($input: PublishModelInput!) { publishModel(input: $input) { model { id } } }`,
      { input: { runId: run.id, step: 20, modelName: 'blobs' } },
    );
    expect(published.errors).toBeUndefined();
    const modelId = published.data!.publishModel.model.id;

    const context = await dash.context(owner);
    const page = await context.newPage();
    const warnings: string[] = [];
    page.on('console', (message) => {
      if (/preload/i.test(message.text())) warnings.push(`${page.url()}: ${message.type()}: ${message.text()}`);
    });
    const unused: string[] = [];
    async function check(path: string) {
      await waitForPath(page, path);
      // Prefetches start once the links are on screen after hydration; they are done when the network is idle.
      await page.waitForLoadState('networkidle');
      for (const href of await unusedStylePreloads(page)) unused.push(`${path}: ${href}`);
    }

    // Each main page opened afresh (a full load, where Chromium checks the preloads) and then reached by a click
    // in the navigation, as people move around.
    const pages: [string, string][] = [
      ['/t/lab', 'Overview'],
      ['/t/lab/runs', 'Runs'],
      ['/t/lab/datasets', 'Datasets'],
      ['/t/lab/models', 'Models'],
      ['/t/lab/members', 'Members'],
    ];
    for (const [path] of pages) {
      await page.goto(path);
      await check(path);
    }
    for (const [path, link] of pages) {
      await page.getByRole('navigation', { name: /team/i }).getByRole('link', { name: link, exact: true }).click();
      await check(path);
    }
    for (const path of [`/t/lab/runs/${run.id}`, `/t/lab/models/${modelId}`, '/settings/tokens', '/teams/new']) {
      await page.goto(path);
      await check(path);
    }
    // The unused preloads are what Chromium warns about a few seconds after load; its warnings are checked too.
    expect({ unused, warnings }).toEqual({ unused: [], warnings: [] });
    await context.close();
  });
});
