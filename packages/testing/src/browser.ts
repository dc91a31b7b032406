import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { findChromium } from './chromium.ts';

// Flags measured to work headless on this kind of machine. A --user-data-dir would clash with playwright's own
// profile handling, so none is passed.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Headless Chromium driven by playwright-core: the one `findChromium` picks (env override, Debian's, or the one from
 * npm) unless a path is given. Close it when done (it is a separate process).
 */
export async function launchBrowser(options: { executablePath?: string } = {}): Promise<Browser> {
  const executablePath = options.executablePath ?? (await findChromium()).executablePath;
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}

export const DESKTOP_VIEWPORT = { width: 1280, height: 800 } as const;
export const PHONE_VIEWPORT = { width: 390, height: 844 } as const;

/**
 * A fresh, isolated browser context (own cookies) rooted at `baseURL`, desktop-sized. It asks for reduced motion, as
 * a user may: the dashboard then holds its spinners and loading placeholders still, which otherwise keep headless
 * Chromium compositing frames in software (~0.1 core per spinner) for as long as a page shows them.
 */
export async function newContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  return browser.newContext({ baseURL, viewport: DESKTOP_VIEWPORT, reducedMotion: 'reduce' });
}

/** `reports/screenshots` at the repository root; `reports/` is git-ignored and kept by CI as artifacts. */
export const SCREENSHOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../reports/screenshots');

/**
 * Why the page is wider than its viewport (a sideways scroll bar, content cut off on a phone), naming the
 * outermost elements that stick out; null when it fits.
 */
export async function horizontalOverflow(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const scrollWidth = document.documentElement.scrollWidth;
    if (scrollWidth <= width) return null;
    const sticksOut = (el: Element) => el.getBoundingClientRect().right > width + 0.5;
    const culprits = Array.from(document.body.querySelectorAll('*'))
      .filter(
        (el) =>
          sticksOut(el) && !(el.parentElement && el.parentElement !== document.body && sticksOut(el.parentElement)),
      )
      .filter((el) => getComputedStyle(el).visibility !== 'hidden')
      .slice(0, 5)
      .map((el) => {
        const classes =
          typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
        const text = (el.textContent ?? '').trim().slice(0, 40);
        return `<${el.tagName.toLowerCase()}${classes}> ends at ${Math.round(el.getBoundingClientRect().right)} px${text ? ` ("${text}")` : ''}`;
      });
    return `${scrollWidth} px wide in a ${width} px viewport; ${culprits.join('; ') || 'no single element found'}`;
  });
}

/**
 * Writes full-page screenshots of the page as it is now at desktop (1280 px) and phone (390 px) width:
 * `reports/screenshots/<test>-<name>-1280.png` and `...-390.png` (`-dark` before the width with
 * `colorScheme: 'dark'`). The viewport and color scheme are restored afterwards. Returns the file paths.
 * Throws if the page scrolls sideways at either width (after writing that screenshot, to look at).
 */
export async function captureScreens(
  page: Page,
  test: string,
  name: string,
  options: { colorScheme?: 'dark' } = {},
): Promise<string[]> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const original = page.viewportSize() ?? DESKTOP_VIEWPORT;
  if (options.colorScheme) await page.emulateMedia({ colorScheme: options.colorScheme });
  const suffix = options.colorScheme ? `-${options.colorScheme}` : '';
  const files: string[] = [];
  for (const viewport of [DESKTOP_VIEWPORT, PHONE_VIEWPORT]) {
    await page.setViewportSize(viewport);
    // Let layout settle after the resize (fonts, media queries) before capturing.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const file = join(SCREENSHOT_DIR, `${slugify(test)}-${slugify(name)}${suffix}-${viewport.width}.png`);
    // Finish CSS transitions (e.g. after a colour-scheme switch) instead of capturing them half-way.
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
    files.push(file);
    const overflow = await horizontalOverflow(page);
    if (overflow)
      throw new Error(`${test} / ${name} at ${viewport.width} px scrolls sideways (see ${file}): ${overflow}`);
  }
  await page.setViewportSize(original);
  if (options.colorScheme) await page.emulateMedia({ colorScheme: null });
  return files;
}

function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
