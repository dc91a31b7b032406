import { describe, expect, it } from 'vitest';
import { gql } from '@dapple/testing';
import { newUser, screens, useDashboard } from './fixtures';

describe('API tokens in the browser', () => {
  const dash = useDashboard();

  it('creates a token, shows its secret once, and revokes it so it stops working', async () => {
    const shot = screens('tokens');
    const user = newUser('scripter');
    const context = await dash.context(user);
    const page = await context.newPage();

    await page.goto('/settings/tokens');
    await page.getByRole('heading', { name: 'No tokens yet' }).waitFor();
    await shot(page, 'empty');

    await page.getByLabel('Name', { exact: true }).fill('laptop');
    await page.getByLabel('Expires after').selectOption('30');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secretField = page.getByLabel('Your new token');
    await secretField.waitFor();
    const secret = await secretField.inputValue();
    expect(secret).toMatch(/^dpl_/);
    // Every underscore of the secret is drawn: the field's pixels change when they become spaces. (A fixed-height
    // input clipped them at 1x in DejaVu Sans Mono, so "dpl_…" read "dpl …".)
    const drawn = await secretField.screenshot();
    await secretField.evaluate((input: HTMLInputElement) => (input.value = input.value.replaceAll('_', ' ')));
    expect((await secretField.screenshot()).equals(drawn)).toBe(false);
    await secretField.evaluate((input: HTMLInputElement, value: string) => (input.value = value), secret);
    const row = page.getByTestId('token-laptop');
    await row.waitFor();
    expect(await row.textContent()).toContain('Active');
    await shot(page, 'created');

    // The secret works against the API...
    const me = (token: string) =>
      gql<{ me: { name: string } | null }>(dash.hub.graphqlUrl, '{ me { name } }', {}, { token });
    expect((await me(secret)).data?.me?.name).toBe(user.name);

    // ...and is not shown again after a reload: only its prefix is.
    await page.reload();
    await row.waitFor();
    expect(await page.getByLabel('Your new token').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByRole('button', { name: 'Revoke “laptop”' }).click();
    await expect.poll(() => row.textContent()).toContain('Revoked');
    expect(await row.getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    await shot(page, 'revoked');

    const after = await me(secret);
    expect(after.data?.me ?? null).toBeNull();
    await context.close();
  });

  it('says what is wrong with the name next to the name field', async () => {
    const user = newUser('noname');
    const context = await dash.context(user);
    const page = await context.newPage();
    await page.goto('/settings/tokens');
    const name = page.getByLabel('Name', { exact: true });
    // The input's maxLength stops people typing more than 100; lift it to see the server's own check.
    await name.evaluate((el) => el.removeAttribute('maxlength'));
    await name.fill('x'.repeat(101));
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect.poll(() => name.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator(`[id="${await name.getAttribute('aria-describedby')}"]`).textContent()).toContain(
      'at most 100 characters',
    );
    await screens('tokens-name-too-long')(page, 'error');
    await context.close();
  });

  it('creates a read-only token that reads but cannot change anything', async () => {
    const user = newUser('reader');
    const context = await dash.context(user);
    const page = await context.newPage();
    await page.goto('/settings/tokens');
    await page.getByLabel('Name', { exact: true }).fill('grafana');
    await page.getByLabel('Access').selectOption('READ');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secretField = page.getByLabel('Your new token');
    await secretField.waitFor();
    const secret = await secretField.inputValue();
    const row = page.getByTestId('token-grafana');
    await row.waitFor();
    expect(await row.textContent()).toContain('read only');
    await screens('tokens-read-only')(page, 'created');

    const read = await gql<{ me: { name: string } | null }>(
      dash.hub.graphqlUrl,
      '{ me { name } }',
      {},
      { token: secret },
    );
    expect(read.data?.me?.name).toBe(user.name);
    const write = await gql(
      dash.hub.graphqlUrl,
      'mutation { createTeam(input: { name: "Nope", slug: "nope-read-only" }) { id } }',
      {},
      { token: secret },
    );
    expect(write.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(write.errors?.[0]?.message).toMatch(/read-only/);
    await context.close();
  });
});
