import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, gql, gqlClient } from '@dapple/testing';
import { startTestHub, type TestHub } from './support/hub.ts';

const SIGN_UP = /* GraphQL */ `
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) {
      user {
        id
        email
        name
      }
    }
  }
`;
const SIGN_IN = /* GraphQL */ `
  mutation SignIn($input: SignInInput!) {
    signIn(input: $input) {
      user {
        id
        name
      }
    }
  }
`;
const ME = /* GraphQL */ `
  query {
    me {
      id
      email
      name
    }
  }
`;

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(() => hub?.close());

describe('accounts and sessions', () => {
  it('signs up, is signed in by the cookie, signs out', async () => {
    const browser = gqlClient(hub.graphqlUrl);
    const up = await browser.request(SIGN_UP, {
      input: { email: 'Ada@Example.com', password: 'correct horse', name: 'Ada' },
    });
    expect(up.errors).toBeUndefined();
    expect(up.data?.signUp.user).toMatchObject({ email: 'ada@example.com', name: 'Ada' });
    expect(up.headers.getSetCookie().join()).toMatch(/dapple_session=.+HttpOnly.+SameSite=Lax/i);

    const me = await browser.request(ME);
    expect(me.data?.me).toMatchObject({ name: 'Ada', email: 'ada@example.com' });

    const out = await browser.request(`mutation { signOut }`);
    expect(out.data?.signOut).toBe(true);
    expect((await browser.request(ME)).data?.me).toBeNull();
  });

  it('signs in with the right password (email case-insensitive) and rejects a wrong one', async () => {
    await gql(hub.graphqlUrl, SIGN_UP, { input: { email: 'bo@example.com', password: 'password-bo', name: 'Bo' } });
    const browser = gqlClient(hub.graphqlUrl);
    const bad = await browser.request(SIGN_IN, { input: { email: 'bo@example.com', password: 'nope-nope' } });
    expect(errorCode(bad)).toBe('UNAUTHENTICATED');
    expect(bad.data).toBeNull();

    const ok = await browser.request(SIGN_IN, { input: { email: 'BO@example.com', password: 'password-bo' } });
    expect(ok.errors).toBeUndefined();
    expect((await browser.request(ME)).data?.me?.name).toBe('Bo');
  });

  it('returns CONFLICT with the field when the email is already taken (any case)', async () => {
    await gql(hub.graphqlUrl, SIGN_UP, { input: { email: 'cy@example.com', password: 'password-cy', name: 'Cy' } });
    const again = await gql(hub.graphqlUrl, SIGN_UP, {
      input: { email: 'CY@example.com', password: 'other-pass', name: 'Cy 2' },
    });
    expect(errorCode(again)).toBe('CONFLICT');
    expect(again.errors?.[0]?.extensions?.field).toBe('email');
    expect(again.errors?.[0]?.message).toMatch(/already exists/);
  });

  it('names the field and the limit on bad sign-up input', async () => {
    const short = await gql(hub.graphqlUrl, SIGN_UP, {
      input: { email: 'dee@example.com', password: 'short', name: 'Dee' },
    });
    expect(errorCode(short)).toBe('BAD_USER_INPUT');
    expect(short.errors?.[0]?.extensions?.field).toBe('password');
    expect(short.errors?.[0]?.message).toMatch(/at least 8/);

    const email = await gql(hub.graphqlUrl, SIGN_UP, {
      input: { email: 'not-an-email', password: 'long enough', name: 'Dee' },
    });
    expect(errorCode(email)).toBe('BAD_USER_INPUT');
    expect(email.errors?.[0]?.extensions?.field).toBe('email');
  });

  it('rate-limits sign-in after 10 failures for an email+IP, and keeps serving', async () => {
    await gql(hub.graphqlUrl, SIGN_UP, { input: { email: 'eve@example.com', password: 'password-eve', name: 'Eve' } });
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await gql(hub.graphqlUrl, SIGN_IN, { input: { email: 'eve@example.com', password: `wrong-${i}` } });
      codes.push(errorCode(res));
    }
    expect(codes.slice(0, 10)).toEqual(Array(10).fill('UNAUTHENTICATED'));
    expect(codes.slice(10)).toEqual(Array(10).fill('RATE_LIMITED'));
    // Locked even with the right password, so guessing cannot continue.
    const right = await gql(hub.graphqlUrl, SIGN_IN, { input: { email: 'eve@example.com', password: 'password-eve' } });
    expect(errorCode(right)).toBe('RATE_LIMITED');
    expect(right.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    // Other accounts are unaffected.
    const other = await gql(hub.graphqlUrl, SIGN_IN, { input: { email: 'bo@example.com', password: 'password-bo' } });
    expect(other.errors).toBeUndefined();
  });

  it('treats an unknown session cookie as signed out and clears it', async () => {
    const res = await gql(hub.graphqlUrl, ME, undefined, { headers: { cookie: 'dapple_session=forged' } });
    expect(res.data?.me).toBeNull();
    expect(res.headers.getSetCookie().join()).toMatch(/dapple_session=;/);
  });
});
