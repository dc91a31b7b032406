import { describe, expect, it } from 'vitest';
import { publishTinyVersion, tinyUNet } from '@dapple/server/testing';
import { apiAs, newUser, openSlowModelPlayground, screens, useDashboard } from './fixtures';
import { ok, teamOf, uploadDataset } from './live-fixtures';

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

    // After a reload both are still there, newest first, and one's settings fill the form again.
    await page.reload();
    const history = page.getByTestId('sample-history-job');
    await expect.poll(() => history.count()).toBe(2);
    expect(await history.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-status')))).toEqual([
      'SUCCEEDED',
      'CANCELLED',
    ]);
    expect(await history.first().textContent()).toContain('2 images · seed 1 · DPM-Solver++ 2M SDE · 3 steps');
    expect(await history.first().locator('img').count()).toBe(2);
    expect(await history.nth(1).textContent()).toContain('Cancelled.');
    await history.nth(1).getByRole('button', { name: 'Use these settings' }).click();
    expect(await page.getByLabel('Count', { exact: true }).inputValue()).toBe('64');
    expect(await page.getByLabel('Steps', { exact: true }).inputValue()).toBe('1000');
    await shot(page, 'history');
    await context.close();
  });
});

// The model page lists evaluations in progress for everyone who opens it: live, with Cancel for whoever may.
describe('evaluations in progress on the model page', () => {
  const dash = useDashboard({
    hub: { runs: { executor: false }, sampling: { workers: 1 }, jobs: { pollingIntervalSeconds: 0.5 } },
  });

  it('shows a running evaluation, cancels it, and follows one queued from the form until its numbers are in', async () => {
    const shot = screens('evaluation-cancel');
    const owner = newUser('owner');
    const api = await apiAs(dash.hub, owner);
    const { teamId, userId } = await teamOf(api, 'Evals', 'evals');
    const { modelId, version } = await publishTinyVersion(dash.hub, teamId, userId, {
      name: 'slow',
      timesteps: 1000,
      unet: tinyUNet({ resolution: 16, baseChannels: 16 }),
    });
    const { versionId: datasetVersionId } = await uploadDataset(api, teamId, 12);
    // 10 samples at 1,000 steps: running for far longer than the checks below.
    ok(
      await api.request(`mutation ($input: EvaluateModelInput!) { evaluateModel(input: $input) { id } }`, {
        input: { modelVersionId: version.id, datasetVersionId, numSamples: 10, steps: 1000, extractor: 'OFFLINE' },
      }),
      'evaluateModel',
    );

    const context = await dash.context(owner);
    const page = await context.newPage();
    await page.goto(`/t/evals/models/${modelId}`);
    const rows = page.getByTestId('evaluation-activity');
    expect(await rows.count()).toBe(1);
    const first = rows.first();
    await expect.poll(() => first.getAttribute('data-status'), { timeout: 60_000 }).toBe('RUNNING');
    await first.getByText(/^Generating: \d+ of 10 images$/).waitFor();
    expect(await first.textContent()).toMatch(/^v1 · 10 samples · offline/);
    await shot(page, 'running');
    await first.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => first.getAttribute('data-status')).toBe('CANCELLED');
    await first.getByText(/^Cancelled /).waitFor();
    expect(await first.getByRole('button', { name: 'Cancel' }).count()).toBe(0);

    // The form queues a short one (the worker is free again); it shows up in the list, then in the table.
    const evaluations = page.locator('section', { has: page.getByRole('heading', { name: 'Evaluations' }) });
    await evaluations.getByLabel('Samples', { exact: true }).fill('10');
    await evaluations.getByLabel('Feature extractor').selectOption('OFFLINE');
    await evaluations.getByRole('button', { name: 'Evaluate' }).click();
    await evaluations.getByText('Evaluation queued: follow it above').waitFor();
    await expect.poll(() => rows.count()).toBe(2);
    await page.getByTestId('evaluation-group').waitFor({ timeout: 120_000 });
    // Succeeded: its row left the list, the cancelled one stays (for a week), also after a reload.
    await expect.poll(() => rows.count()).toBe(1);
    await page.reload();
    expect(await rows.first().getAttribute('data-status')).toBe('CANCELLED');
    await shot(page, 'finished');

    // Both can be deleted by whoever asked for them: the cancelled one from the list, the finished one's numbers
    // from the table, each after saying what goes.
    await rows.first().getByTestId('delete-evaluation').click();
    await rows.first().getByRole('button', { name: 'Delete this cancelled evaluation' }).click();
    await expect.poll(() => rows.count()).toBe(0);
    await page.getByTestId('evaluation-group').getByTestId('delete-evaluation').click();
    expect(await page.getByTestId('delete-frees').textContent()).toBe(
      'Deleting the evaluation of v1 (10 samples) frees its numbers from every table (the model stays as it is). This cannot be undone.',
    );
    await page.getByRole('button', { name: 'Delete the evaluation of v1 (10 samples)' }).click();
    await page.getByText('No finished evaluations yet.').waitFor();
    expect(await page.getByTestId('evaluation-group').count()).toBe(0);
    await context.close();
  });
});
