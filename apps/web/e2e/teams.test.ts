import { describe, expect, it } from 'vitest';
import { apiAs, newUser, screens, useDashboard, waitForPath, type Dashboard } from './fixtures';

describe('teams in the browser', () => {
  const dash = useDashboard();

  it('creates a team with a slug derived from its name and lands on its home', async () => {
    const shot = screens('create-team');
    const user = newUser('owner');
    const context = await dash.context(user);
    const page = await context.newPage();

    await page.goto('/');
    await waitForPath(page, '/teams/new'); // no team yet
    await page.getByLabel('Team name').fill('Vision Lab');
    expect(await page.getByLabel('URL').inputValue()).toBe('vision-lab');
    await shot(page, 'form');
    await page.getByRole('button', { name: 'Create team' }).click();

    await waitForPath(page, '/t/vision-lab');
    await page.getByRole('heading', { level: 1, name: 'Vision Lab' }).waitFor();
    // The empty team says what to do next.
    for (const step of ['Upload a dataset', 'Start a run', 'Invite your team']) {
      expect(await page.getByRole('heading', { name: step }).isVisible(), step).toBe(true);
    }
    expect(await page.getByLabel('Team: Vision Lab. Switch team').isVisible()).toBe(true);
    await shot(page, 'team-home');
    await shot(page, 'team-home', { colorScheme: 'dark' });

    // Spinners and loading placeholders hold still for users who ask for less motion (test contexts ask for it:
    // an animation keeps headless Chromium compositing frames), and move for everyone else.
    const animations = () =>
      page.evaluate(() => {
        const spinner = Object.assign(document.createElement('span'), { className: 'spinner' });
        const skeleton = Object.assign(document.createElement('div'), { className: 'skeleton' });
        document.body.append(spinner, skeleton);
        const names = [spinner, skeleton].map((el) => getComputedStyle(el).animationName);
        spinner.remove();
        skeleton.remove();
        return names;
      });
    expect(await animations()).toEqual(['none', 'none']);
    await page.emulateMedia({ reducedMotion: 'no-preference' });
    expect(await animations()).toEqual(['spin', 'shimmer']);
    await page.emulateMedia({ reducedMotion: 'reduce' });

    // `/` now goes to the team.
    await page.goto('/');
    await waitForPath(page, '/t/vision-lab');

    // Datasets and runs start empty, saying what to do next; a dataset made through the API is listed.
    await page.getByRole('navigation', { name: 'Team' }).getByRole('link', { name: 'Runs' }).click();
    await waitForPath(page, '/t/vision-lab/runs');
    await page.getByRole('heading', { name: 'No runs yet' }).waitFor();
    await shot(page, 'runs-empty');
    await page.getByRole('navigation', { name: 'Team' }).getByRole('link', { name: 'Datasets' }).click();
    await waitForPath(page, '/t/vision-lab/datasets');
    await page.getByRole('heading', { name: 'No datasets yet' }).waitFor();
    await shot(page, 'datasets-empty');
    const api = await apiAs(dash.hub, user);
    const teamId = (await api.request<{ team: { id: string } }>(`query { team(slug: "vision-lab") { id } }`)).data!.team
      .id;
    const dataset = await api.request(
      `mutation ($input: CreateDatasetInput!) { createDataset(input: $input) { id } }`,
      {
        input: { teamId, name: 'Faces', channels: 3, resolution: 32 },
      },
    );
    expect(dataset.errors).toBeUndefined();
    await page.reload();
    const row = page.getByTestId('dataset-Faces');
    expect(await row.textContent()).toContain('32×32 · RGB · no versions yet');
    await shot(page, 'datasets');

    // A taken slug is reported next to the URL field.
    await page.goto('/teams/new');
    await page.getByLabel('Team name').fill('Vision Lab');
    await page.getByRole('button', { name: 'Create team' }).click();
    const slug = page.getByLabel('URL');
    await expect.poll(() => slug.getAttribute('aria-invalid')).toBe('true');
    expect(
      await page
        .locator(`[id="${await slug.getAttribute('aria-describedby').then((ids) => ids?.split(' ')[0])}"]`)
        .textContent(),
    ).toContain('already taken');
    await shot(page, 'slug-taken');

    // The switcher lists both teams after creating a second one.
    await page.getByLabel('Team name').fill('Vision Lab Two');
    await slug.fill('vision-lab-two');
    await page.getByRole('button', { name: 'Create team' }).click();
    await waitForPath(page, '/t/vision-lab-two');
    // ...and works from the keyboard: Enter opens it, Tab reaches the first team, Enter goes there.
    await page.getByLabel('Team: Vision Lab Two. Switch team').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Vision Lab', exact: true }).waitFor();
    await shot(page, 'switcher');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('href'))).toBe('/t/vision-lab');
    await page.keyboard.press('Enter');
    await waitForPath(page, '/t/vision-lab');
    await context.close();
  });

  it('invites a member who accepts in another browser, then changes their role and removes them', async () => {
    const shot = screens('invite');
    const owner = newUser('owner');
    const invitee = newUser('invitee');
    const ownerApi = await apiAs(dash.hub, owner);
    const created = await ownerApi.request<{ createTeam: { slug: string } }>(
      `mutation ($input: CreateTeamInput!) { createTeam(input: $input) { slug } }`,
      { input: { name: 'Diffusion Crew', slug: 'diffusion-crew' } },
    );
    expect(created.errors).toBeUndefined();

    const ownerContext = await dash.context(owner);
    const ownerPage = await ownerContext.newPage();
    await ownerPage.goto('/t/diffusion-crew/members');
    await ownerPage.getByLabel('Email').fill(invitee.email);
    await ownerPage.getByLabel('Role').selectOption('MEMBER');
    await ownerPage.getByRole('button', { name: 'Create invite' }).click();
    const linkField = ownerPage.getByLabel('Invite link');
    await linkField.waitFor();
    const link = await linkField.inputValue();
    expect(link).toMatch(new RegExp(`^${dash.web.url}/invite/.+`));
    // The pending invite is listed.
    const pending = ownerPage.getByRole('region', { name: 'Pending invites' });
    await pending.getByText(invitee.email).waitFor();
    await shot(ownerPage, 'members-with-link');

    // The invitee, who already has an account, opens the link signed out, signs in and comes back to accept.
    // (Signing up from the link joins at once: auth.test.ts and journey.test.ts.)
    await (await dash.context(invitee)).close();
    const inviteeContext = await dash.context();
    const inviteePage = await inviteeContext.newPage();
    await inviteePage.goto(link);
    await inviteePage.getByRole('heading', { name: 'You’re invited to a team' }).waitFor();
    // It says which team, before the invitee has an account.
    expect(await inviteePage.getByTestId('invite-team').textContent()).toBe('Join Diffusion Crew as member.');
    await shot(inviteePage, 'signed-out');
    await inviteePage.getByRole('link', { name: 'Sign in' }).click();
    await waitForPath(inviteePage, '/sign-in');
    await inviteePage.getByLabel('Email').fill(invitee.email);
    await inviteePage.getByLabel('Password').fill(invitee.password);
    await inviteePage.getByRole('button', { name: 'Sign in' }).click();
    await waitForPath(inviteePage, /^\/invite\//);
    await inviteePage.getByRole('button', { name: 'Accept invite' }).waitFor();
    await shot(inviteePage, 'signed-in');
    await inviteePage.getByRole('button', { name: 'Accept invite' }).click();
    await waitForPath(inviteePage, '/t/diffusion-crew');
    await inviteePage.getByRole('heading', { level: 1, name: 'Diffusion Crew' }).waitFor();
    await shot(inviteePage, 'invitee-team-home');

    // As a plain member they see the team but cannot invite or change roles.
    await inviteePage.goto('/t/diffusion-crew/members');
    await inviteePage.getByText('Only admins and owners can invite or change roles.').waitFor();
    expect(await inviteePage.getByRole('button', { name: 'Create invite' }).count()).toBe(0);
    expect(await inviteePage.getByRole('combobox').count()).toBe(0);
    await shot(inviteePage, 'member-view');

    // The owner sees the new member, makes them an admin, then removes them.
    await ownerPage.reload();
    const row = ownerPage.getByTestId(`member-${invitee.email}`);
    await row.waitFor();
    expect(await pending.getByText(invitee.email).count()).toBe(0); // no longer pending
    await row.getByLabel(`Role of ${invitee.name}`).selectOption('ADMIN');
    await expect.poll(async () => (await roleOf(dash, owner, invitee.email)) ?? 'none').toBe('ADMIN');

    // Changes made elsewhere arrive live over the subscription (a WebSocket through the dashboard's
    // proxy): the page shows the new role without a reload. The change is re-sent until it shows,
    // because the subscription may not be registered on the server the instant the socket is up.
    const members = ownerPage.getByRole('region', { name: 'Members' });
    await members.and(ownerPage.locator('[data-live="live"]')).waitFor();
    const api = await apiAs(dash.hub, owner);
    const teamId = (await api.request<{ team: { id: string } }>(`query { team(slug: "diffusion-crew") { id } }`)).data!
      .team.id;
    const userId = (
      await api.request<{ team: { members: { user: { id: string; email: string } }[] } }>(
        `query { team(slug: "diffusion-crew") { members { user { id email } } } }`,
      )
    ).data!.team.members.find((m) => m.user.email === invitee.email)!.user.id;
    await expect
      .poll(
        async () => {
          const shown = await row.getByLabel(`Role of ${invitee.name}`).inputValue();
          if (shown !== 'VIEWER') {
            const res = await api.request(
              `mutation ($input: SetMemberRoleInput!) { setMemberRole(input: $input) { role } }`,
              {
                input: { teamId, userId, role: 'VIEWER' },
              },
            );
            expect(res.errors).toBeUndefined();
          }
          return shown;
        },
        { interval: 1000, timeout: 60_000 },
      )
      .toBe('VIEWER');
    await shot(ownerPage, 'members');
    await row.getByRole('button', { name: 'Remove' }).click();
    await row.getByRole('button', { name: `Remove ${invitee.name}` }).click();
    await row.waitFor({ state: 'detached' });
    expect(await roleOf(dash, owner, invitee.email)).toBeUndefined();

    // The invitee, now removed, is told so rather than shown the team.
    await inviteePage.goto('/t/diffusion-crew');
    await inviteePage.getByRole('heading', { name: 'You don’t have access to this team' }).waitFor();
    await shot(inviteePage, 'removed');
    await ownerContext.close();
    await inviteeContext.close();
  });
});

async function roleOf(dash: Dashboard, owner: ReturnType<typeof newUser>, email: string): Promise<string | undefined> {
  const api = await apiAs(dash.hub, owner);
  const res = await api.request<{ team: { members: { role: string; user: { email: string } }[] } }>(
    `query { team(slug: "diffusion-crew") { members { role user { email } } } }`,
  );
  return res.data?.team.members.find((m) => m.user.email === email)?.role;
}
