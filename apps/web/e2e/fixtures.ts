import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { HubConfig } from '@dapple/server';
import { DiskStore } from '@dapple/storage';
import { freePort, gqlClient } from '@dapple/testing';
import { publishTinyVersion, startTestHub, TEST_SECRET, tinyUNet, type TestHub } from '@dapple/server/testing';
import { teamOf } from './live-fixtures';
import { captureScreens, launchBrowser, newContext } from '@dapple/testing/browser';
import { startWeb, type WebServer } from '@dapple/testing/web';
import { borrowDashboard, dashboardPoolUrl } from '@dapple/testing/dashboard-pool';

/** A real hub (fresh database), the production build of the dashboard proxying to it, and Chromium. */
export interface Dashboard {
  hub: TestHub;
  web: DashboardWeb;
  browser: Browser;
  /** A new isolated browser context (its own cookies) on the dashboard, optionally signed in. */
  context(user?: TestUser): Promise<BrowserContext>;
  /** Uncaught page errors and console errors seen in any page so far (hydration mismatches land here). */
  pageErrors: string[];
  close(): Promise<void>;
}

export interface DashboardWeb {
  /** Origin of the dashboard, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** What `next start` printed while this dashboard served this file (server-side render errors land here). */
  logs(): Promise<string>;
}

export interface TestUser {
  name: string;
  email: string;
  password: string;
}

/**
 * `hub` overrides the test hub's config (e.g. `{ runs: { executor: false } }` so runs stay queued).
 *
 * The hub is the file's own. The dashboard and Chromium are borrowed from the web project's dashboard pool
 * (@dapple/testing/dashboard-pool-global-setup) and given back by close(): starting them took every file seconds of
 * CPU. Each file still gets fresh browser contexts (own cookies and storage) and a dashboard that keeps no state of
 * its own (every API call it makes is uncached). Without the pool (another vitest config) the file starts its own.
 */
export async function startDashboard(options: { hub?: Partial<HubConfig> } = {}): Promise<Dashboard> {
  const poolUrl = dashboardPoolUrl();
  return poolUrl ? startOnBorrowed(poolUrl, options) : startOwn(options);
}

async function startOnBorrowed(poolUrl: string, options: { hub?: Partial<HubConfig> }): Promise<Dashboard> {
  const borrowed = await borrowDashboard(poolUrl);
  let hub: TestHub | undefined;
  let storeDir: string | undefined;
  // The dashboard goes back first (its contexts closed, its relay to this hub cut), so no request reaches the hub
  // while it stops; the hub stops even if giving back failed.
  const cleanup = async () => {
    try {
      await borrowed.release();
    } finally {
      await hub?.close();
      if (storeDir) await rm(storeDir, { recursive: true, force: true });
    }
  };
  try {
    storeDir = await mkdtemp(join(tmpdir(), 'dapple-web-e2e-store-'));
    hub = await startHubFor(borrowed.webUrl, storeDir, options);
    await borrowed.route(Number(new URL(hub.url).port));
  } catch (err) {
    await cleanup();
    throw err;
  }
  return dashboardOf(hub, { url: borrowed.webUrl, logs: () => borrowed.logs() }, borrowed.browser, cleanup);
}

async function startOwn(options: { hub?: Partial<HubConfig> }): Promise<Dashboard> {
  // The hub must know the dashboard's origin before it starts (it checks WebSocket origins),
  // so the dashboard's port is chosen first.
  const webPort = await freePort();
  const storeDir = await mkdtemp(join(tmpdir(), 'dapple-web-e2e-store-'));
  const hub = await startHubFor(`http://127.0.0.1:${webPort}`, storeDir, options);
  let web: WebServer | undefined;
  let browser: Browser | undefined;
  try {
    web = await startWeb({ apiUrl: hub.url, port: webPort });
    browser = await launchBrowser();
  } catch (err) {
    await web?.close();
    await hub.close();
    await rm(storeDir, { recursive: true, force: true });
    throw err;
  }
  const server = web;
  const launched = browser;
  return dashboardOf(hub, { url: server.url, logs: async () => server.logs() }, launched, async () => {
    await launched.close();
    await server.close();
    await hub.close();
    await rm(storeDir, { recursive: true, force: true });
  });
}

// Object URLs (uploads, previews) point at the dashboard's origin, as in production: the browser sends uploads
// same-origin and the dashboard streams them to the hub.
function startHubFor(webUrl: string, storeDir: string, options: { hub?: Partial<HubConfig> }): Promise<TestHub> {
  const store = new DiskStore({ root: storeDir, publicBaseUrl: webUrl, signingSecret: TEST_SECRET });
  return startTestHub({ allowedOrigins: [webUrl], store, ...options.hub });
}

function dashboardOf(hub: TestHub, web: DashboardWeb, browser: Browser, close: () => Promise<void>): Dashboard {
  const pageErrors: string[] = [];
  return {
    hub,
    web,
    browser,
    pageErrors,
    async context(user) {
      const context = await newContext(browser, web.url);
      // CI runs every project's tests at once on two cores: give each page action room.
      context.setDefaultTimeout(60_000);
      context.on('page', (page) => {
        page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
        page.on('console', (message) => {
          if (message.type() === 'error')
            pageErrors.push(`${page.url()}: console: ${message.text()} (${message.location().url})`);
        });
      });
      if (user)
        await context.addCookies([
          { name: 'dapple_session', value: await sessionFor(hub, user), url: web.url, httpOnly: true },
        ]);
      return context;
    },
    close,
  };
}

type DashboardOptions = Parameters<typeof startDashboard>[0];

/**
 * The dashboard for the tests of the surrounding describe block: started before them, closed after them,
 * and after each test no page it opened may have thrown or logged an error (hydration mismatches and
 * failed requests land there; the dashboard's own log is shown with them). `options` may be a function,
 * run in the beforeAll, for settings made there (e.g. a temp folder).
 *
 * Returns a handle that forwards to the dashboard once it started, so tests read `dash.hub`, `dash.context()`.
 */
export function useDashboard(
  options: DashboardOptions | (() => Promise<DashboardOptions> | DashboardOptions) = {},
): Dashboard {
  let dash: Dashboard | undefined;
  beforeAll(async () => {
    dash = await startDashboard(typeof options === 'function' ? await options() : options);
  });
  afterAll(async () => {
    await dash?.close();
  });
  afterEach(async () => {
    const errors = dash?.pageErrors.splice(0) ?? [];
    const log = errors.length ? (await dash!.web.logs()).slice(-4000) : '';
    expect(errors, errors.length ? `the dashboard's log:\n${log}` : undefined).toEqual([]);
  });
  return new Proxy({} as Dashboard, {
    get(_target, key) {
      if (!dash) throw new Error(`the dashboard is not started yet: read dash.${String(key)} inside a test`);
      return Reflect.get(dash, key);
    },
  });
}

/**
 * useDashboard with a hub that really trains — one CPU slot running the trainer on the wasm backend, its logs in a
 * temp folder removed afterwards — and samples with one worker; polls are short so live updates come quickly.
 * `trainer.cpuWorkers` (default 1) is DAPPLE_CPU_WORKERS, undefined for the production default (one worker thread per
 * usable CPU). One thread as in the server's run tests (apps/server/test/runs-fixtures.ts, testRunsConfig): two
 * data-parallel worker threads each load TF.js again and sync every step, which made the run page's 300-step run cost
 * 88 CPU-s for the file against 67 with one (load 6-11); the worker-thread trainer is covered by
 * apps/trainer/test/cpu-workers.test.ts, runs-acceptance.test.ts and the journey, which keep the default.
 */
export function useTrainingDashboard(name: string, trainer: { cpuWorkers?: number } = { cpuWorkers: 1 }): Dashboard {
  let logDir: string | undefined;
  const dash = useDashboard(async () => {
    logDir = await mkdtemp(join(tmpdir(), `dapple-web-e2e-${name}-`));
    return {
      hub: {
        runs: {
          logDir,
          slots: [{ id: 'cpu', gpu: null }],
          pollMs: 200,
          stopGraceMs: 60_000,
          trainerEnv: {
            DAPPLE_TF_BACKEND: 'wasm',
            ...(trainer.cpuWorkers !== undefined ? { DAPPLE_CPU_WORKERS: String(trainer.cpuWorkers) } : {}),
          },
        },
        jobs: { pollingIntervalSeconds: 0.5 },
        sampling: { workers: 1 },
      },
    };
  });
  afterAll(async () => {
    if (logDir) await rm(logDir, { recursive: true, force: true });
  });
  return dash;
}

/**
 * A new owner's team "lab" with a published model that samples slowly (16×16, 1000 timesteps: a job of many images
 * at 1000 steps outlasts any check a test makes while it runs), and the owner's page on it with the playground's
 * Steps set to 1000.
 */
export async function openSlowModelPlayground(dash: Dashboard): Promise<{ context: BrowserContext; page: Page }> {
  const owner = newUser('owner');
  const api = await apiAs(dash.hub, owner);
  const { teamId, userId } = await teamOf(api, 'Lab', 'lab');
  const { modelId } = await publishTinyVersion(dash.hub, teamId, userId, {
    name: 'slow',
    timesteps: 1000,
    unet: tinyUNet({ resolution: 16, baseChannels: 16 }),
  });
  const context = await dash.context(owner);
  const page = await context.newPage();
  await page.goto(`/t/lab/models/${modelId}`);
  await page.getByLabel('Steps', { exact: true }).fill('1000');
  return { context, page };
}

export function newUser(label: string): TestUser {
  const id = randomBytes(4).toString('hex');
  const name = `${label.charAt(0).toUpperCase()}${label.slice(1)} Tester`;
  return { name, email: `${label}-${id}@example.com`, password: `pw-${id}-long-enough` };
}

/**
 * Signs the user up (or in, if they exist) over the API and returns their session cookie value. A taken email is
 * CONFLICT with open sign-up, FORBIDDEN by invitation (where only an existing or the hub's first user works).
 */
export async function sessionFor(hub: TestHub, user: TestUser): Promise<string> {
  const client = gqlClient(hub.graphqlUrl);
  const signUp = await client.request(`mutation ($input: SignUpInput!) { signUp(input: $input) { user { id } } }`, {
    input: user,
  });
  const code = signUp.errors?.[0]?.extensions?.code;
  if (code === 'CONFLICT' || code === 'FORBIDDEN') {
    const signIn = await client.request(`mutation ($input: SignInInput!) { signIn(input: $input) { user { id } } }`, {
      input: { email: user.email, password: user.password },
    });
    expect(signIn.errors).toBeUndefined();
  } else {
    expect(signUp.errors).toBeUndefined();
  }
  const cookie = client.cookies.get('dapple_session');
  if (!cookie) throw new Error('the hub set no dapple_session cookie');
  return cookie;
}

/** A GraphQL client for the hub authenticated as the user (for setting up state the test is not about). */
export async function apiAs(hub: TestHub, user: TestUser) {
  const client = gqlClient(hub.graphqlUrl);
  client.cookies.set('dapple_session', await sessionFor(hub, user));
  return client;
}

/** Screenshots at 1280 px and 390 px: reports/screenshots/<test>-<page>-<width>.png */
export function screens(test: string) {
  return (page: Page, name: string, options: { colorScheme?: 'dark' } = {}) =>
    captureScreens(page, test, name, options);
}

/** Waits for client-side navigation to reach a path (the dashboard navigates without full reloads). */
export async function waitForPath(page: Page, path: string | RegExp): Promise<void> {
  try {
    await page.waitForURL((url) => (typeof path === 'string' ? url.pathname === path : path.test(url.pathname)), {
      timeout: 60_000,
    });
  } catch (err) {
    // Say where the page is and what it shows: far more useful than a bare timeout.
    const text = await page
      .locator('body')
      .innerText()
      .catch(() => '<unreadable>');
    throw new Error(
      `Expected to reach ${String(path)} but the page is at ${page.url()} showing:\n${text.slice(0, 1500)}`,
      { cause: err },
    );
  }
}

/** How many of the images matching `selector` have loaded (decoded, non-empty). */
export async function imagesLoaded(page: Page, selector: string): Promise<number> {
  return page
    .locator(selector)
    .evaluateAll(
      (imgs) =>
        imgs.filter((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0).length,
    );
}

/**
 * What inside `scope` a user cannot read whole, one line each (empty when all fits): a box whose content is wider
 * than it (a sideways scroll bar, or text running out of it), and a select with an option whose label is wider than
 * the select's text area (the select cuts it off when that option is chosen). At the page's current viewport width.
 */
export async function clippedIn(scope: Locator): Promise<string[]> {
  return scope.evaluate((root) => {
    const describe = (el: Element) => {
      const classes =
        typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      return `<${el.tagName.toLowerCase()}${classes}>`;
    };
    const found: string[] = [];
    for (const el of [root, ...Array.from(root.querySelectorAll('*'))]) {
      if (el.closest('.visually-hidden')) continue; // 1 px wide on purpose: for screen readers only
      if (el instanceof HTMLSelectElement) {
        // A select's scrollWidth does not grow with its label: measure each label in the select's own font.
        const style = getComputedStyle(el);
        const context = document.createElement('canvas').getContext('2d')!;
        context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        for (const { text: label } of Array.from(el.options)) {
          const text = context.measureText(label).width;
          if (text > room + 0.5)
            found.push(`${describe(el)} cuts off "${label}" (${Math.ceil(text)} px of text in ${Math.floor(room)} px)`);
        }
      } else if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth) {
        const text = (el.textContent ?? '').trim().slice(0, 40);
        found.push(`${describe(el)} holds ${el.scrollWidth} px in ${el.clientWidth} px ("${text}")`);
      }
    }
    return found;
  });
}

/**
 * The rows of a grid of fields, other than its last, that leave an empty cell at their end (a field too wide for
 * the room left in its row wrapped to the next one), one line each: empty when every row but the last is full.
 * Rows are the grid's children that share a top edge. At the page's current viewport width.
 */
export async function unfilledRows(grid: Locator): Promise<string[]> {
  return grid.evaluate((el) => {
    const right = el.getBoundingClientRect().right;
    const rows = new Map<number, { right: number; labels: string[] }>();
    for (const child of Array.from(el.children)) {
      const box = child.getBoundingClientRect();
      if (box.width === 0) continue;
      const top = Math.round(box.top);
      const row = rows.get(top) ?? { right: -Infinity, labels: [] };
      row.right = Math.max(row.right, box.right);
      row.labels.push(child.querySelector('label')?.textContent?.trim() ?? child.tagName.toLowerCase());
      rows.set(top, row);
    }
    const ordered = [...rows.entries()].sort(([a], [b]) => a - b).map(([, row]) => row);
    return ordered
      .slice(0, -1)
      .filter((row) => row.right < right - 1)
      .map((row) => `the row of ${row.labels.join(', ')} ends ${Math.round(right - row.right)} px short`);
  });
}

/** The texts of the elements matched by `locator` that run to more than one line (a name broken in two). */
export async function wrappedText(locator: Locator): Promise<string[]> {
  return locator.evaluateAll((els) =>
    els
      .filter((el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        return new Set(Array.from(range.getClientRects(), (r) => Math.round(r.top))).size > 1;
      })
      .map((el) => (el.textContent ?? '').trim()),
  );
}

/** Server sampling from a model page's playground: 4 images × 5 steps, queued → progress → the images shown. */
export async function sampleOnServer(page: Page): Promise<void> {
  await page.getByLabel('Steps', { exact: true }).fill('5');
  await page.getByLabel('Count', { exact: true }).fill('4');
  await page.getByRole('button', { name: 'Generate on server' }).click();
  await waitForServerJob(page, 4);
}

/**
 * The server job just started from the page (within `within`, e.g. the interpolation panel): it must end SUCCEEDED
 * (else its text says why) and its `count` images (`images`) load. Returns the job's element.
 */
export async function waitForServerJob(
  page: Page,
  count: number,
  { within, images = '[data-testid="server-job"] img' }: { within?: Locator; images?: string } = {},
): Promise<Locator> {
  const job = (within ?? page).getByTestId('server-job');
  await expect.poll(() => job.getAttribute('data-status'), { timeout: 180_000 }).toMatch(/SUCCEEDED|FAILED/);
  expect(await job.getAttribute('data-status'), (await job.textContent()) ?? '').toBe('SUCCEEDED');
  await expect.poll(() => imagesLoaded(page, images), { timeout: 60_000 }).toBe(count);
  return job;
}

/** Fills and sends the sign-up form for a new user, who lands on "create a team", signed in. */
export async function signUpInForm(page: Page, user: TestUser): Promise<void> {
  await page.getByLabel('Name', { exact: true }).fill(user.name);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await waitForPath(page, '/teams/new');
  await expect.poll(() => page.getByTestId('user-name').textContent()).toBe(user.name);
}
