import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// layout.tsx imports every CSS module so that no prefetch preloads a stylesheet a page then leaves unused
// (e2e/preload-warnings.test.ts shows why in a browser); a module added later and not listed there brings the
// warnings back on the pages that link to where it is used.

const APP_DIR = dirname(fileURLToPath(import.meta.url));
const SRC_DIR = dirname(APP_DIR);

describe('the root layout', () => {
  it('imports every CSS module of the dashboard', async () => {
    const modules = (await readdir(SRC_DIR, { recursive: true }))
      .filter((path) => path.endsWith('.module.css'))
      .map((path) => relative(APP_DIR, join(SRC_DIR, path)).split('\\').join('/'));
    expect(modules.length).toBeGreaterThan(0);
    const layout = await readFile(join(APP_DIR, 'layout.tsx'), 'utf8');
    const imported = [...layout.matchAll(/^import '([^']+\.module\.css)';$/gm)].map((m) => m[1]);
    expect(imported.sort()).toEqual(modules.sort());
  });
});
