import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { horizontalOverflow, launchBrowser, PHONE_VIEWPORT } from '../src/browser.ts';

describe('horizontalOverflow', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('names what makes a page scroll sideways, and is null for a page that fits', async () => {
    const page = await browser.newPage({ viewport: PHONE_VIEWPORT });
    await page.setContent(
      '<body style="margin:0"><main><div class="card wide" style="width:420px">a wide card</div></main></body>',
    );
    expect(await horizontalOverflow(page)).toBe(
      '420 px wide in a 390 px viewport; <div.card.wide> ends at 420 px ("a wide card")',
    );
    await page.setContent(
      '<body style="margin:0"><div style="width:100%;overflow-x:auto"><table style="width:900px"><tr><td>scrolls inside</td></tr></table></div></body>',
    );
    expect(await horizontalOverflow(page)).toBeNull();
    await page.close();
  });
});
