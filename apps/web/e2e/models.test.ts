import { describe, expect, it } from 'vitest';
import { insertMetricPoints } from '@dapple/db';
import { finishedRunWithCheckpoints } from '@dapple/server/testing';
import {
  apiAs,
  clippedIn,
  imagesLoaded,
  newUser,
  sampleOnServer,
  screens,
  unfilledRows,
  useDashboard,
  waitForPath,
  wrappedText,
} from './fixtures';

// The models part of the dashboard: gallery, model page (versions, card, aliases), sampling as a viewer,
// and a public share link opened anonymously, then revoked.

describe('models in the browser', () => {
  // No trainer processes (the run and its checkpoints are written directly); one sampling worker.
  const dash = useDashboard({ hub: { runs: { executor: false }, sampling: { workers: 1 } } });

  it('shows a published model, moves an alias, lets a viewer sample, and serves a share link until it is revoked', async () => {
    const shot = screens('models');
    const owner = newUser('owner');
    const viewer = newUser('viewer');
    const api = await apiAs(dash.hub, owner);
    const created = await api.request<{ createTeam: { id: string } }>(
      `mutation { createTeam(input: { name: "Studio", slug: "studio" }) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    const teamId = created.data!.createTeam.id;
    const me = await api.request<{ me: { id: string } }>(`{ me { id } }`);
    // Wide grids (as a class-conditional run's are): the model page must show them in their own proportions.
    const { run } = await finishedRunWithCheckpoints(dash.hub, teamId, me.data!.me.id, [20, 40], { gridHeight: 6 });
    // The metrics a DDPM trainer reports besides the loss (train.ts, train-loop.ts), the system ones every 10 steps
    // from step 5: version 1 (step 20) shows them "at step 15", the widest its metrics card gets.
    const everyStep = ['loss_q1', 'loss_q2', 'loss_q3', 'loss_q4', 'grad_norm', 'lr', 'ema_decay'];
    const sometimes = ['images_per_sec', 'rss_mb', 'gpu_util', 'gpu_mem_mb', 'cpu_workers', 'worker_images_per_sec'];
    await insertMetricPoints(dash.hub.hub.pool, run.id, [
      ...everyStep.flatMap((key) =>
        Array.from({ length: 40 }, (_, i) => ({ key, step: i + 1, value: key === 'lr' ? 2e-4 : 1 / (i + 3) })),
      ),
      ...sometimes.flatMap((key) => [5, 15, 25, 35].map((step) => ({ key, step, value: 1234.567 + step }))),
      { key: 'held_out_bits_per_dim', step: 10, value: 5.4321 },
    ]);
    const publish = `mutation ($input: PublishModelInput!) { publishModel(input: $input) { model { id } version { id number } } }`;
    const v1 = await api.request<{ publishModel: { model: { id: string }; version: { id: string } } }>(publish, {
      input: {
        runId: run.id,
        step: 20,
        modelName: 'blobs',
        description: 'Grey blobs, 8×8',
        notes: 'First cut. **Bold** and <script>alert(1)</script>',
      },
    });
    expect(v1.errors).toBeUndefined();
    const modelId = v1.data!.publishModel.model.id;
    const v2 = await api.request(publish, { input: { runId: run.id, step: 40, modelId, notes: 'Longer training' } });
    expect(v2.errors).toBeUndefined();
    const best = await api.request(
      `mutation ($m: ID!, $v: ID!) { setAlias(modelId: $m, name: "best", versionId: $v) { id } }`,
      { m: modelId, v: v1.data!.publishModel.version.id },
    );
    expect(best.errors).toBeUndefined();
    // The viewer joins the team as a VIEWER: read and sample, no alias moves.
    const invite = await api.request<{ inviteMember: { token: string } }>(
      `mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }`,
      {
        input: { teamId, email: viewer.email, role: 'VIEWER' },
      },
    );
    expect(invite.errors).toBeUndefined();
    const viewerApi = await apiAs(dash.hub, viewer);
    expect(
      (
        await viewerApi.request(`mutation ($t: String!) { acceptInvite(token: $t) { id } }`, {
          t: invite.data!.inviteMember.token,
        })
      ).errors,
    ).toBeUndefined();

    // Gallery: the card with the sample grid, latest version and aliases.
    const ownerContext = await dash.context(owner);
    const page = await ownerContext.newPage();
    await page.goto('/t/studio');
    await page.getByRole('navigation', { name: 'Team' }).getByRole('link', { name: 'Models' }).click();
    await waitForPath(page, '/t/studio/models');
    const card = page.getByTestId('model-blobs');
    expect(await card.textContent()).toContain('v2');
    expect(await card.textContent()).toContain('best');
    await expect.poll(() => imagesLoaded(page, '[data-testid="model-blobs"] img')).toBe(1);
    await shot(page, 'gallery');

    // Model page: versions, the card (markdown rendered, raw HTML shown as text), aliases.
    await card.getByRole('link', { name: 'blobs' }).click();
    await waitForPath(page, `/t/studio/models/${modelId}`);
    await page.getByRole('heading', { level: 1, name: 'blobs' }).waitFor();
    expect(await page.getByTestId('version-2').textContent()).toContain('step 40');
    expect(await page.getByTestId('version-1').textContent()).toContain('step 20');
    await page.getByRole('heading', { name: 'Model card · version 2' }).waitFor();
    await page.getByRole('link', { name: 'Version 1' }).click();
    await page.getByRole('heading', { name: 'Model card · version 1' }).waitFor();
    const cardSection = page.locator('section', { has: page.getByRole('heading', { name: 'Model card · version 1' }) });
    expect(await cardSection.locator('strong', { hasText: 'Bold' }).count()).toBe(1);
    expect(await cardSection.locator('script').count()).toBe(0);
    expect(await cardSection.textContent()).toContain('<script>alert(1)</script>');
    await shot(page, 'model');
    // The run's grid in its own proportions (it was letterboxed into a square), captioned with how it was drawn.
    const hero = page.getByRole('img', { name: /^Sample grid of blobs version 1/ });
    await expect.poll(() => hero.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    const { shownRatio, ownRatio } = await hero.evaluate((img: HTMLImageElement) => ({
      shownRatio: img.clientHeight / img.clientWidth,
      ownRatio: img.naturalHeight / img.naturalWidth,
    }));
    expect(shownRatio).toBeCloseTo(ownRatio, 1);
    expect(await page.getByTestId('grid-caption').textContent()).toMatch(
      /^Drawn with DPM-Solver\+\+ 2M SDE · \d+ steps · seed \d+\.$/,
    );
    // Nothing in the playground or the training metrics is cut off or scrolls sideways. Before: at 1280 px the
    // metrics table scrolled in its 320 px column and the sampler and device selects cut off "DPM-Solver++ 2M SDE"
    // and "WebAssembly (CPU)"; at 900 px (team nav beside two columns) the playground did not fit its card.
    const metricsCard = page.locator('section', { has: page.getByRole('heading', { name: 'Training metrics · v1' }) });
    expect(await metricsCard.textContent()).toMatch(/worker_images_per_sec.*at step 15/);
    const playground = page.locator('section', { has: page.getByRole('heading', { name: 'Sampling playground' }) });
    // The alias selects and the evaluate form too. Before: at 1280 px the `best` select, beside its Remove button, was
    // 40 px wide and showed none of "Version 1"; the feature extractor select cut off "Pretrained MobileNetV2 (defa…".
    // And no alias name breaks in two ("latest" did beside a whole select and a "Remove" text button).
    const aliasPanel = page.locator('section', { has: page.getByRole('heading', { name: 'Aliases' }) });
    const evaluations = page.locator('section', { has: page.getByRole('heading', { name: 'Evaluations' }) });
    for (const width of [1280, 900, 390]) {
      await page.setViewportSize({ width, height: 800 });
      expect(await clippedIn(metricsCard), `training metrics at ${width} px`).toEqual([]);
      expect(await clippedIn(playground), `sampling playground at ${width} px`).toEqual([]);
      expect(await unfilledRows(playground.getByTestId('playground-fields')), `playground rows at ${width} px`).toEqual(
        [],
      );
      expect(await clippedIn(aliasPanel), `aliases at ${width} px`).toEqual([]);
      expect(
        await wrappedText(aliasPanel.locator('[data-testid^="alias-"] label')),
        `alias names at ${width} px`,
      ).toEqual([]);
      expect(await clippedIn(evaluations.locator('form')), `evaluate form at ${width} px`).toEqual([]);
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    // Move `best` from v1 to v2 with its select; the history records the move.
    await page.getByLabel('best', { exact: true }).selectOption({ label: 'Version 2' });
    await expect.poll(() => page.getByRole('list', { name: 'Alias history' }).textContent()).toContain('best v1 → v2');
    const aliases = await api.request<{ model: { aliases: { name: string; versionId: string }[] } }>(
      `query ($id: ID!) { model(id: $id) { aliases { name versionId } } }`,
      { id: modelId },
    );
    const v2Id = (v2.data as { publishModel: { version: { id: string } } }).publishModel.version.id;
    expect(aliases.data!.model.aliases.find((a) => a.name === 'best')?.versionId).toBe(v2Id);

    // Evaluate: the API's refusal (more samples than the dataset has images) shows next to the field.
    // (A finished evaluation is not run here: the cheap fixtures have too few distinct grey 8×8 images.)
    const samples = evaluations.getByLabel('Samples', { exact: true });
    await samples.fill('100');
    await evaluations.getByRole('button', { name: 'Evaluate' }).click();
    await expect.poll(() => samples.getAttribute('aria-invalid')).toBe('true');
    expect(await evaluations.locator('.field-error').textContent()).toMatch(
      /has \d+ images; numSamples must be at most that/,
    );
    await samples.fill('9');
    expect(await samples.getAttribute('aria-invalid')).toBeNull();
    await evaluations.getByRole('button', { name: 'Evaluate' }).click();
    expect(await evaluations.locator('.field-error').textContent()).toContain('from 10 to 10000');
    await shot(page, 'evaluate-invalid');

    // Share link: created in the dialog, shown once.
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Share blobs' });
    await dialog.getByLabel('Expires after').selectOption('24');
    await dialog.getByRole('button', { name: 'Create link' }).click();
    const linkField = dialog.getByLabel('Share link (shown only now — copy it)');
    await expect.poll(() => linkField.inputValue()).toMatch(/\/share\/dpl_share_/);
    const shareUrl = await linkField.inputValue();
    // People: an unknown address is refused next to the field; a teammate is added with a role.
    const email = dialog.getByLabel('Email', { exact: true });
    await email.fill('nobody@example.com');
    await dialog.getByRole('button', { name: 'Share', exact: true }).click();
    await expect.poll(() => email.getAttribute('aria-invalid')).toBe('true');
    expect(await dialog.locator('.field-error').first().textContent()).toContain(
      'no user with the address nobody@example.com',
    );
    await shot(page, 'share-dialog-invalid');
    const friend = newUser('friend');
    await apiAs(dash.hub, friend); // signs the friend up: shares go to people with an account
    await email.fill(friend.email);
    await dialog.getByLabel('Role', { exact: true }).selectOption('EDITOR');
    await dialog.getByRole('button', { name: 'Share', exact: true }).click();
    await expect.poll(() => dialog.getByTestId(`share-${friend.email.toLowerCase()}`).count()).toBe(1);
    expect(await dialog.getByTestId(`share-${friend.email.toLowerCase()}`).textContent()).toContain('Editor');
    await shot(page, 'share-dialog');
    await dialog.getByRole('button', { name: 'Close' }).click();

    // A viewer samples on the server: queue → progress → images.
    const viewerContext = await dash.context(viewer);
    const viewerPage = await viewerContext.newPage();
    await viewerPage.goto(`/t/studio/models/${modelId}`);
    await viewerPage.getByRole('heading', { level: 1, name: 'blobs' }).waitFor();
    expect(await viewerPage.getByRole('button', { name: 'Share', exact: true }).count()).toBe(0);
    expect(await viewerPage.locator('[data-testid="alias-best"] select').count()).toBe(0);
    await sampleOnServer(viewerPage);
    await shot(viewerPage, 'viewer-sampled');

    // And in the browser: TF.js loads the version's files in the page.
    await viewerPage.getByRole('button', { name: 'Generate in browser' }).click();
    const local = viewerPage.getByTestId('browser-samples');
    await expect.poll(() => local.getAttribute('data-status'), { timeout: 120_000 }).toMatch(/done|failed/);
    expect(await local.textContent()).not.toContain('failed');
    await expect.poll(() => imagesLoaded(viewerPage, '[data-testid="browser-samples"] img')).toBe(4);
    await shot(viewerPage, 'viewer-browser-sampled');
    await viewerContext.close();

    // Anonymous visitor with the link: read-only page, server sampling works.
    const anonymous = await dash.context();
    const publicPage = await anonymous.newPage();
    await publicPage.goto(shareUrl);
    await publicPage.getByRole('heading', { level: 1, name: 'blobs' }).waitFor();
    expect(await publicPage.getByRole('navigation', { name: 'Team' }).count()).toBe(0);
    expect(await publicPage.getByRole('button', { name: 'Delete' }).count()).toBe(0);
    await sampleOnServer(publicPage);
    await shot(publicPage, 'shared');

    // Revoked: the link dies, and the page says so.
    await page.reload();
    await page.getByRole('button', { name: 'Share', exact: true }).click();
    const revoke = page.getByRole('dialog', { name: 'Share blobs' }).getByRole('button', { name: /^Revoke link/ });
    await revoke.click();
    await expect
      .poll(() => page.getByRole('dialog', { name: 'Share blobs' }).getByText('Revoked', { exact: true }).count())
      .toBe(1);
    await publicPage.reload();
    await publicPage.getByRole('heading', { name: 'This share link no longer works' }).waitFor();
    await shot(publicPage, 'shared-revoked');
    await anonymous.close();
    await ownerContext.close();
  });
});
