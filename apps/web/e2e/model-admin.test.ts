import { describe, expect, it } from 'vitest';
import { finishedRunWithCheckpoints } from '@dapple/server/testing';
import { apiAs, newUser, screens, useDashboard, waitForPath, type TestUser } from './fixtures';

// Managing a model from its page: the description (markdown) edited and rendered, an alias added and removed,
// and the model deleted after typing its name. A member may edit but not delete; a viewer sees no controls.

describe('model management in the browser', () => {
  const dash = useDashboard({ hub: { runs: { executor: false } } });

  it('edits the description, adds and removes an alias, hides the controls from a viewer, and deletes the model', async () => {
    const shot = screens('model-admin');
    const owner = newUser('owner');
    const api = await apiAs(dash.hub, owner);
    const created = await api.request<{ createTeam: { id: string } }>(
      `mutation { createTeam(input: { name: "Atelier", slug: "atelier" }) { id } }`,
    );
    expect(created.errors).toBeUndefined();
    const teamId = created.data!.createTeam.id;
    const me = await api.request<{ me: { id: string } }>(`{ me { id } }`);
    const { run } = await finishedRunWithCheckpoints(dash.hub, teamId, me.data!.me.id, [20, 40]);
    const publish = `mutation ($input: PublishModelInput!) { publishModel(input: $input) { model { id } } }`;
    const v1 = await api.request<{ publishModel: { model: { id: string } } }>(publish, {
      input: { runId: run.id, step: 20, modelName: 'blobs', description: 'Grey blobs' },
    });
    expect(v1.errors).toBeUndefined();
    const modelId = v1.data!.publishModel.model.id;
    expect((await api.request(publish, { input: { runId: run.id, step: 40, modelId } })).errors).toBeUndefined();
    const join = async (user: TestUser, role: 'VIEWER' | 'MEMBER') => {
      const invite = await api.request<{ inviteMember: { token: string } }>(
        `mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }`,
        {
          input: { teamId, email: user.email, role },
        },
      );
      expect(invite.errors).toBeUndefined();
      const joined = await (
        await apiAs(dash.hub, user)
      ).request(`mutation ($t: String!) { acceptInvite(token: $t) { id } }`, { t: invite.data!.inviteMember.token });
      expect(joined.errors).toBeUndefined();
    };
    const viewer = newUser('viewer');
    const member = newUser('member');
    await join(viewer, 'VIEWER');
    await join(member, 'MEMBER');

    const ownerContext = await dash.context(owner);
    const page = await ownerContext.newPage();
    await page.goto(`/t/atelier/models/${modelId}`);
    await page.getByRole('heading', { level: 1, name: 'blobs' }).waitFor();

    // The description: edited as markdown with a live preview, saved, rendered (raw HTML stays text).
    await page.getByRole('button', { name: 'Edit description' }).click();
    const editor = page.getByLabel('Description (markdown)');
    await editor.fill('Grey **blobs**, trained on `tiles`.\n\n- 8×8 px\n- two versions\n\n<b>not html</b>');
    const preview = page.getByLabel('Preview');
    await preview.locator('strong', { hasText: 'blobs' }).waitFor();
    await shot(page, 'description-editing');
    await page.getByRole('button', { name: 'Save description' }).click();
    const header = page.getByTestId('model-description');
    await header.locator('strong', { hasText: 'blobs' }).waitFor();
    expect(await header.locator('code', { hasText: 'tiles' }).count()).toBe(1);
    expect(await header.locator('li').allTextContents()).toEqual(['8×8 px', 'two versions']);
    expect(await header.locator('b').count()).toBe(0);
    expect(await header.textContent()).toContain('<b>not html</b>');
    expect(await page.getByLabel('Description (markdown)').count()).toBe(0);
    const stored = await api.request<{ model: { description: string } }>(
      `query ($id: ID!) { model(id: $id) { description } }`,
      { id: modelId },
    );
    expect(stored.data!.model.description).toContain('Grey **blobs**');

    // An alias added, then removed: both audited in the history.
    const aliases = page.locator('section', { has: page.getByRole('heading', { name: 'Aliases' }) });
    await aliases.getByLabel('New alias').fill('best');
    await aliases.getByLabel('Points at').selectOption({ label: 'Version 1' });
    await aliases.getByRole('button', { name: 'Add alias' }).click();
    await page.getByTestId('alias-best').waitFor();
    expect(
      await page
        .getByTestId('alias-latest')
        .getByRole('button', { name: /^Remove/ })
        .count(),
    ).toBe(0);
    await shot(page, 'alias-added');
    await page.getByRole('button', { name: 'Remove alias best' }).click();
    await expect.poll(() => page.getByTestId('alias-best').count()).toBe(0);
    await expect
      .poll(() => page.getByRole('list', { name: 'Alias history' }).textContent())
      .toContain('best v1 → removed');
    const left = await api.request<{ model: { aliases: { name: string }[] } }>(
      `query ($id: ID!) { model(id: $id) { aliases { name } } }`,
      { id: modelId },
    );
    expect(left.data!.model.aliases.map((a) => a.name)).toEqual(['latest']);
    await shot(page, 'model');

    // A viewer reads the rendered description but gets none of the controls; a member edits but cannot delete.
    for (const [user, canEdit] of [
      [viewer, false],
      [member, true],
    ] as const) {
      const context = await dash.context(user);
      const other = await context.newPage();
      await other.goto(`/t/atelier/models/${modelId}`);
      await other.getByRole('heading', { level: 1, name: 'blobs' }).waitFor();
      expect(await other.getByTestId('model-description').locator('strong', { hasText: 'blobs' }).count()).toBe(1);
      expect(await other.getByRole('button', { name: 'Edit description', exact: true }).count()).toBe(canEdit ? 1 : 0);
      expect(await other.getByRole('button', { name: 'Add alias', exact: true }).count()).toBe(canEdit ? 1 : 0);
      expect(await other.getByRole('button', { name: 'Delete model', exact: true }).count()).toBe(0);
      // Fine-tuning starts a run: members may, viewers may not (nor start runs or upload anywhere).
      expect(await other.getByRole('link', { name: /^Fine-tune v\d+$/ }).count()).toBe(canEdit ? 1 : 0);
      // The run's checkpoints: members publish them, a viewer sees them without the buttons.
      await other.goto(`/t/atelier/runs/${run.id}`);
      await other.getByTestId('checkpoint-40').waitFor();
      expect(await other.getByRole('button', { name: /^Publish the checkpoint at step/ }).count()).toBe(
        canEdit ? 2 : 0,
      );
      await other.goto(`/t/atelier/models/${modelId}`);
      await other.getByRole('heading', { level: 1, name: 'blobs' }).waitFor();
      if (!canEdit) {
        await shot(other, 'viewer');
        for (const [path, says] of [
          ['/t/atelier/runs/new', 'Viewers cannot start runs'],
          ['/t/atelier/datasets/new', 'Viewers cannot upload datasets'],
        ] as const) {
          await other.goto(path);
          await other.getByRole('heading', { name: says }).waitFor();
          expect(await other.locator('form').count()).toBe(0);
        }
        // The overview's members card links to the list without promising to manage it.
        await other.goto('/t/atelier');
        await other.getByRole('link', { name: 'All members' }).waitFor();
        expect(await other.getByRole('link', { name: 'Manage', exact: true }).count()).toBe(0);
        await other.goto('/t/atelier/runs');
        await other.getByRole('heading', { level: 1, name: 'Runs' }).waitFor();
        expect(await other.getByRole('link', { name: 'Start a run' }).count()).toBe(0);
        await other.goto('/t/atelier/datasets');
        await other.getByRole('heading', { level: 1, name: 'Datasets' }).waitFor();
        expect(await other.getByRole('link', { name: 'New dataset' }).count()).toBe(0);
      }
      await context.close();
    }

    // Delete: the dialog asks for the name; a wrong one keeps the button disabled.
    await page.getByRole('button', { name: 'Delete model', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete blobs?' });
    const confirm = dialog.getByRole('button', { name: 'Delete this model' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByLabel('Type blobs to confirm').fill('blob');
    expect(await confirm.isDisabled()).toBe(true);
    await shot(page, 'delete-dialog');
    await dialog.getByLabel('Type blobs to confirm').fill('blobs');
    expect(await confirm.isEnabled()).toBe(true);
    await confirm.click();
    await waitForPath(page, '/t/atelier/models');
    await page.getByRole('heading', { level: 1, name: 'Models' }).waitFor();
    expect(await page.getByTestId('model-blobs').count()).toBe(0);
    await shot(page, 'gallery-after-delete');
    const gone = await api.request(`query ($id: ID!) { model(id: $id) { id } }`, { id: modelId });
    expect(gone.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await ownerContext.close();
  });
});
