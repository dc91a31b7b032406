import { afterAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../src/browser.ts';
import { findChromium, unpackNpmChromium } from '../src/chromium.ts';

// `npm test` on a fresh clone has no hand-installed browser: the tests fall back to the Chromium inside the
// @sparticuz/chromium npm package. This runs that path even where Debian's chromium is installed.
describe('the Chromium from npm', () => {
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
  });

  it('unpacks once (concurrent callers share one unpack) and renders a page', async () => {
    const [a, b] = await Promise.all([unpackNpmChromium(), unpackNpmChromium()]);
    expect(a).toBe(b);
    browser = await launchBrowser({ executablePath: a });
    const page = await browser.newPage();
    await page.setContent('<h1 style="font-family:sans-serif">Dapple</h1>');
    expect(await page.textContent('h1')).toBe('Dapple');
    expect(browser.version()).toMatch(/^\d+\./);
  });

  it('is what findChromium picks without an override or Debian chromium; an override must be executable', async () => {
    const none = '/nonexistent/chromium';
    expect(await findChromium({ env: {}, debianPath: none })).toEqual({
      executablePath: await unpackNpmChromium(),
      source: 'npm',
    });
    const npmPath = await unpackNpmChromium();
    expect(await findChromium({ env: {}, debianPath: npmPath })).toEqual({ executablePath: npmPath, source: 'debian' });
    expect(await findChromium({ env: { DAPPLE_CHROMIUM_PATH: npmPath }, debianPath: none })).toEqual({
      executablePath: npmPath,
      source: 'env',
    });
    await expect(findChromium({ env: { DAPPLE_CHROMIUM_PATH: none } })).rejects.toThrow(
      'DAPPLE_CHROMIUM_PATH=/nonexistent/chromium is not an executable file',
    );
  });
});
