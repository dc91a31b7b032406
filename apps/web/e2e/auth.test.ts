import { describe, expect, it } from 'vitest';
import { apiAs, newUser, screens, signUpInForm, useDashboard, waitForPath } from './fixtures';
import { teamOf } from './live-fixtures';

describe('signing up, in and out in the browser', () => {
  const dash = useDashboard();

  it("signs up through the page and sees the user's name", async () => {
    const shot = screens('sign-up');
    const user = newUser('ada');
    const context = await dash.context();
    const page = await context.newPage();

    const response = await page.goto('/');
    await waitForPath(page, '/sign-in'); // signed out: the front door is sign-in
    // Every page's security headers (src/lib/security-headers.ts): a CSP whose nonce is on Next's scripts (any
    // script it blocked would be a console error, which fails the test), no framing, no referrer leaks.
    const headers = await response!.allHeaders();
    const csp = headers['content-security-policy'] ?? '';
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]{24}' 'strict-dynamic' 'wasm-unsafe-eval'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("worker-src 'self' blob:");
    expect(headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(headers['x-content-type-options']).toBe('nosniff');
    expect(headers['permissions-policy']).toContain('camera=()');
    const nonce = /'nonce-([^']+)'/.exec(csp)![1]!;
    const scripts = await page.locator('script').evaluateAll((els) => els.map((el) => (el as HTMLScriptElement).nonce));
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts.every((n) => n === nonce)).toBe(true);
    // A fresh nonce for every response.
    const again = await fetch(new URL('/sign-in', page.url()));
    expect(again.headers.get('content-security-policy')).not.toContain(nonce);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await waitForPath(page, '/sign-up');
    await shot(page, 'form');

    // A new account has no team yet, so it lands on "create a team", signed in.
    await signUpInForm(page, user);
    expect(await page.getByTestId('user-name').isVisible()).toBe(true);
    await shot(page, 'signed-in');
    await context.close();
  });

  it('shows an email that is already taken next to the email field', async () => {
    const shot = screens('sign-up-taken');
    const user = newUser('taken');
    await (await dash.context(user)).close(); // creates the account
    const context = await dash.context();
    const page = await context.newPage();
    await page.goto('/sign-up');
    await page.getByLabel('Name', { exact: true }).fill('Someone Else');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill('another-password');
    await page.getByRole('button', { name: 'Create account' }).click();

    const email = page.getByLabel('Email');
    await expect.poll(() => email.getAttribute('aria-invalid')).toBe('true');
    const errorId = await email.getAttribute('aria-describedby');
    expect(await page.locator(`[id="${errorId}"]`).textContent()).toContain('already exists');
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBeNull();
    await shot(page, 'error');
    await context.close();
  });

  it('signs out from the account menu and signs in again', async () => {
    const shot = screens('sign-in');
    const user = newUser('grace');
    const context = await dash.context(user);
    const page = await context.newPage();

    await page.goto('/teams/new');
    await expect.poll(() => page.getByTestId('user-name').textContent()).toBe(user.name);
    await page.getByLabel(`Account: ${user.name}`).click();
    await shot(page, 'account-menu');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await waitForPath(page, '/sign-in');

    // The session is gone: signed-in pages send us back to sign-in.
    await page.goto('/settings/tokens');
    await waitForPath(page, '/sign-in');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/settings/tokens');
    await shot(page, 'form');

    // Keyboard only: type, Tab to the next field, Enter submits.
    await page.getByLabel('Email').focus();
    await page.keyboard.type(user.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(user.password);
    await page.keyboard.press('Enter');
    await waitForPath(page, '/settings/tokens'); // back where we were going
    await expect.poll(() => page.getByTestId('user-name').textContent()).toBe(user.name);
    await context.close();
  });

  it('shows a wrong password next to the password field', async () => {
    const shot = screens('sign-in-wrong-password');
    const user = newUser('alan');
    await (await dash.context(user)).close(); // creates the account
    const context = await dash.context();
    const page = await context.newPage();

    await page.goto('/sign-in');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();

    const password = page.getByLabel('Password');
    await expect.poll(() => password.getAttribute('aria-invalid')).toBe('true');
    const errorId = await password.getAttribute('aria-describedby');
    const error = page.locator(`[id="${errorId}"]`);
    expect(await error.textContent()).toContain('Wrong email or password');
    // It is rendered inside the password field's group, right under its input.
    expect(await error.evaluate((el) => el.parentElement?.querySelector('input')?.type)).toBe('password');
    expect(await page.getByLabel('Email').getAttribute('aria-invalid')).toBeNull();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    await shot(page, 'error');
    await context.close();
  });
});

describe('sign-up by invitation (DAPPLE_SIGNUP=invite) in the browser', () => {
  const dash = useDashboard({ hub: { auth: { signUp: 'invite' } } });

  it("takes the hub's first account, then says sign-up is closed; an invite link makes the account in its team", async () => {
    const shot = screens('sign-up-invite');
    const owner = newUser('owner');
    const context = await dash.context();
    const page = await context.newPage();
    // The empty hub's first account: the ordinary form.
    await page.goto('/sign-up');
    await signUpInForm(page, owner);
    await context.close();

    const api = await apiAs(dash.hub, owner);
    const { teamId } = await teamOf(api, 'Lab', 'lab');
    const invitee = newUser('invitee');
    const invite = await api.request<{ inviteMember: { token: string } }>(
      `mutation ($input: InviteMemberInput!) { inviteMember(input: $input) { token } }`,
      { input: { teamId, email: invitee.email, role: 'MEMBER' } },
    );
    expect(invite.errors).toBeUndefined();
    const token = invite.data!.inviteMember.token;

    // Anyone else, without an invite: a clear message instead of a form.
    const stranger = await dash.context();
    const closed = await stranger.newPage();
    await closed.goto('/sign-up');
    await expect.poll(() => closed.getByTestId('sign-up-closed').textContent()).toContain('Sign-up is by invitation');
    expect(await closed.getByRole('button', { name: 'Create account' }).count()).toBe(0);
    await shot(closed, 'closed');
    await stranger.close();

    // The invitee follows the link, creates the account and lands in the team.
    const guest = await dash.context();
    const invited = await guest.newPage();
    await invited.goto(`/invite/${token}`);
    await invited.getByRole('link', { name: 'Create an account' }).click();
    await waitForPath(invited, '/sign-up');
    await expect.poll(() => invited.getByTestId('sign-up-invite').textContent()).toContain('joining Lab');
    await invited.getByLabel('Name', { exact: true }).fill(invitee.name);
    await invited.getByLabel('Email').fill(invitee.email);
    await invited.getByLabel('Password').fill(invitee.password);
    await shot(invited, 'form');
    await invited.getByRole('button', { name: 'Create account' }).click();
    await waitForPath(invited, '/t/lab');
    await expect.poll(() => invited.getByTestId('user-name').textContent()).toBe(invitee.name);
    await guest.close();
  });
});
