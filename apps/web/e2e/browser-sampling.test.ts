import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { softwareRenderer } from '../src/components/models/software-renderer';
import { imagesLoaded, openSlowModelPlayground, screens, useDashboard, waitForServerJob } from './fixtures';

// In-browser sampling runs in a Web Worker: the page answers while it samples, progress moves, Stop ends it,
// the backend and an estimate are shown, and the same seed gives the server's pixels.
describe('sampling in the browser, off the main thread', () => {
  const dash = useDashboard({ hub: { runs: { executor: false }, sampling: { workers: 1 } } });

  /** Steps done so far (0 before the first); throws with the section's text if sampling ended or failed. */
  const progress = async (page: Page): Promise<number> => {
    const state = await page.evaluate(() => {
      const section = document.querySelector('[data-testid="browser-samples"]');
      const bar = document.querySelector('[data-testid="browser-progress"]');
      return {
        status: section?.getAttribute('data-status') ?? null,
        done: Number(bar?.getAttribute('data-done') ?? 0),
        text: section?.textContent ?? '',
      };
    });
    if (state.status !== 'running')
      throw new Error(
        `browser sampling is ${state.status}: ${state.text} (page errors: ${dash.pageErrors.join('; ')})`,
      );
    return state.done;
  };

  /** RGBA bytes of every image under `selector`, drawn at natural size (data: URLs and /objects URLs alike). */
  const pixelsOf = (page: Page, selector: string) =>
    page.locator(selector).evaluateAll((imgs) =>
      imgs.map((img) => {
        const image = img as HTMLImageElement;
        const canvas = document.createElement('canvas');
        canvas.width = image.naturalWidth;
        canvas.height = image.naturalHeight;
        const context = canvas.getContext('2d')!;
        context.drawImage(image, 0, 0);
        return Array.from(context.getImageData(0, 0, canvas.width, canvas.height).data);
      }),
    );

  it(
    'keeps the page answering while it samples, stops on request, and matches the server for a seed',
    {
      timeout: 600_000,
    },
    async () => {
      const shot = screens('browser-sampling');
      const { context, page } = await openSlowModelPlayground(dash);
      // The most images a request takes, so that the sampling outlasts the checks below even where it runs on
      // WebAssembly over many cores (one worker per core, up to 8) rather than on a slow software GPU.
      await page.getByLabel('Count', { exact: true }).fill('64');
      await page.getByRole('button', { name: 'Generate in browser' }).click();
      const local = page.getByTestId('browser-samples');
      // Fails at once with the page's words if sampling fails instead of progressing.
      for (let waited = 0; (await progress(page)) === 0; waited += 250) {
        if (waited > 300_000) throw new Error('no sampling step finished in 5 minutes');
        await page.waitForTimeout(250);
      }
      const backend = (await page.getByTestId('browser-backend').textContent()) ?? '';
      expect(backend).toMatch(/^Running on (WebGPU|WebGL|WebAssembly|JavaScript) \(/);
      // Where WebGL is drawn in software (this headless Chromium's SwiftShader, as on GPU-less VMs and remote
      // desktops), "fastest available" passes it over for WebAssembly, ~50× faster there, and says why.
      const webGlRenderer = await page.evaluate(() => {
        const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
        if (!gl) return null;
        return String(
          gl.getExtension('WEBGL_debug_renderer_info') ? gl.getParameter(0x9246) : gl.getParameter(gl.RENDERER),
        );
      });
      const software = webGlRenderer ? softwareRenderer(webGlRenderer) : null;
      if (software) {
        expect(backend).toMatch(/^Running on WebAssembly \(/);
        expect(backend).toContain(`WebGL: ${software} draws it on the CPU`);
      }
      expect(await page.getByTestId('browser-estimate').textContent()).toMatch(/^Estimated \d+ (s|min) for 1000 steps/);
      await shot(page, 'sampling');

      // The page answers while the worker samples: typing into a field and an evaluate round trip complete, and
      // sampling is still under way afterwards (progress keeps rising past where it was before the interaction).
      const before = await progress(page);
      await page.getByLabel('Seed', { exact: true }).fill('12345');
      expect(await page.getByLabel('Seed', { exact: true }).inputValue()).toBe('12345');
      expect(await page.evaluate(() => document.querySelectorAll('button').length)).toBeGreaterThan(0);
      expect(await local.getAttribute('data-status')).toBe('running');
      await expect.poll(() => progress(page), { timeout: 120_000 }).toBeGreaterThan(before);
      expect(await progress(page)).toBeLessThan(16_000);

      // Stop ends it (the worker is terminated): no images, the section goes away, the button is back.
      await page.getByRole('button', { name: 'Stop' }).click();
      await expect.poll(() => local.count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Generate in browser' }).isEnabled()).toBe(true);

      // Same seed and settings: the server's images, pixel for pixel, from the wasm backend (the server's own).
      await page.getByLabel('Seed', { exact: true }).fill('3');
      await page.getByLabel('Steps', { exact: true }).fill('4');
      await page.getByLabel('Count', { exact: true }).fill('3');
      await page.getByRole('button', { name: 'Generate on server' }).click();
      await waitForServerJob(page, 3);
      await page.getByLabel('In-browser device', { exact: true }).selectOption('wasm');
      await page.getByRole('button', { name: 'Generate in browser' }).click();
      await expect.poll(() => local.getAttribute('data-status'), { timeout: 180_000 }).toMatch(/done|failed/);
      expect(await local.textContent()).toContain('with WebAssembly');
      // On a CPU backend the request is split over one worker per core (at most the image count); the pixels below
      // must still be the server's, whatever the split.
      const cores = await page.evaluate(() => navigator.hardwareConcurrency || 1);
      const workers = Math.min(3, cores, 8);
      if (workers > 1) expect(await local.textContent()).toContain(`${workers} workers)`);
      else expect(await local.textContent()).not.toContain('workers)');
      await expect.poll(() => imagesLoaded(page, '[data-testid="browser-samples"] img')).toBe(3);
      const server = await pixelsOf(page, '[data-testid="server-job"] img');
      const browser = await pixelsOf(page, '[data-testid="browser-samples"] img');
      expect(server).toHaveLength(3);
      expect(browser).toEqual(server);
      expect(new Set(browser[0]).size).toBeGreaterThan(10);
      await shot(page, 'same-as-server');
      expect(dash.pageErrors).toEqual([]);
      await context.close();
    },
  );
});
