import { describe, expect, it } from 'vitest';
import { finishedRunWithCheckpoints, twoClassImages, readyDatasetVersion } from '@dapple/server/testing';
import { apiAs, newUser, screens, useDashboard, waitForPath } from './fixtures';

// The new-run form's model choices. Fine-tuning: the model page's Fine-tune action opens the form with the
// version as its base; the run records it and its page links back to it. Class conditioning: the form says what
// a dataset's labels mean for the run, and an explicit choice is what the run gets.

describe('fine-tuning and class conditioning in the browser', () => {
  // No trainer processes: the run stays queued, which is all the form and the run page need.
  const dash = useDashboard({ hub: { runs: { executor: false } } });

  it('starts a fine-tune of a model version from its page and shows the base on the run page', async () => {
    const shot = screens('fine-tune');
    const owner = newUser('tuner');
    const api = await apiAs(dash.hub, owner);
    const created = await api.request<{ createTeam: { id: string } }>(
      `mutation { createTeam(input: { name: "Forge", slug: "forge" }) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    const me = await api.request<{ me: { id: string } }>(`{ me { id } }`);
    // An 8×8 grey run and its dataset (the fine-tune trains on that dataset again).
    const { run } = await finishedRunWithCheckpoints(dash.hub, created.data!.createTeam.id, me.data!.me.id, [20, 40]);
    const published = await api.request<{ publishModel: { model: { id: string }; version: { id: string } } }>(
      `mutation ($input: PublishModelInput!) { publishModel(input: $input) { model { id } version { id } } }`,
      { input: { runId: run.id, step: 40, modelName: 'blobs' } },
    );
    expect(published.errors).toBeUndefined();
    const { model, version } = published.data!.publishModel;

    const context = await dash.context(owner);
    const page = await context.newPage();
    await page.goto(`/t/forge/models/${model.id}`);
    await page.getByRole('link', { name: 'Fine-tune v1' }).click();
    await waitForPath(page, '/t/forge/runs/new');
    await page.getByRole('heading', { level: 1, name: 'Fine-tune a model' }).waitFor();
    const base = page.getByTestId('fine-tune-base');
    expect(await base.textContent()).toMatch(/blobs v1 · 8×8 grayscale · preset tiny · unconditional/);
    // The architecture comes from the base: no preset or conditioning to pick.
    expect(await page.getByLabel('Preset').count()).toBe(0);
    await shot(page, 'form');
    await page.getByLabel('Run name').fill('blobs-ft');
    await page.getByText('Advanced settings').click();
    await page.getByLabel('Steps').fill('20');
    await page.getByLabel('Batch size').fill('4');
    await page.getByRole('button', { name: 'Start fine-tuning' }).click();
    await waitForPath(page, /^\/t\/forge\/runs\/[0-9a-f-]+$/);

    const runs = await api.request<{
      runs: { nodes: { id: string; name: string; baseModelVersionId: string | null }[] };
    }>(
      `query ($t: ID!) { runs(teamId: $t, filter: { search: "blobs-ft" }) { nodes { id name baseModelVersionId } } }`,
      { t: created.data!.createTeam.id },
    );
    const ft = runs.data!.runs.nodes[0]!;
    expect(ft).toMatchObject({ name: 'blobs-ft', baseModelVersionId: version.id });

    await page.goto(`/t/forge/runs/${ft.id}`);
    await page
      .getByRole('heading', { name: 'Config and reproducibility' })
      .waitFor()
      .catch(async (err) => {
        throw new Error(`the run page shows:\n${(await page.locator('body').innerText()).slice(0, 2000)}`, {
          cause: err,
        });
      });
    const link = page.getByTestId('base-model-version');
    expect(await link.textContent()).toBe('blobs v1');
    await shot(page, 'run');
    await link.click();
    await waitForPath(page, `/t/forge/models/${model.id}`);
    await context.close();
  });

  it('starts a class-conditional run by default on a labelled dataset, and an unconditional one when asked', async () => {
    const owner = newUser('classy');
    const api = await apiAs(dash.hub, owner);
    const created = await api.request<{ createTeam: { id: string } }>(
      `mutation { createTeam(input: { name: "Classes", slug: "classes" }) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    const teamId = created.data!.createTeam.id;
    await readyDatasetVersion(dash.hub, teamId, {
      resolution: 8,
      channels: 1,
      name: 'bars',
      images: await twoClassImages(8, 8),
    });

    const context = await dash.context(owner);
    const page = await context.newPage();
    const startWith = async (name: string, conditioning: string) => {
      await page.goto('/t/classes/runs/new');
      expect(await page.getByLabel('Dataset').locator('option:checked').textContent()).toContain(
        'bars · v1 · 8 images · 8×8 · 2 labels',
      );
      await page.getByLabel('Run name').fill(name);
      await page.getByLabel('Conditioning').selectOption({ label: conditioning });
      await page.getByText('Advanced settings').click();
      await page.getByLabel('Steps').fill('20');
      await page.getByLabel('Batch size').fill('4');
      await page.getByRole('button', { name: 'Start run' }).click();
      await waitForPath(page, /^\/t\/classes\/runs\/[0-9a-f-]+$/);
    };
    await page.goto('/t/classes/runs/new');
    expect(await page.getByText('One class per label (top, bottom)').count()).toBe(1);
    await screens('class-conditioning')(page, 'form');
    await startWith('bars-auto', 'Automatic');
    await startWith('bars-none', 'Unconditional');

    const runs = await api.request<{
      runs: { nodes: { name: string; config: { conditioning: string; numClasses: number | null } }[] };
    }>(`query ($t: ID!) { runs(teamId: $t) { nodes { name config { conditioning numClasses } } } }`, { t: teamId });
    expect(Object.fromEntries(runs.data!.runs.nodes.map((r) => [r.name, r.config]))).toEqual({
      'bars-auto': { conditioning: 'CLASS', numClasses: 2 },
      'bars-none': { conditioning: 'NONE', numClasses: null },
    });
    await context.close();
  });
});
