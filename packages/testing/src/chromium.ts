import { createRequire } from 'node:module';
import { access, constants, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { testEnv } from './env.ts';

const require = createRequire(import.meta.url);

/** Debian's chromium package, used when it is installed. */
export const DEBIAN_CHROMIUM_PATH = '/usr/bin/chromium';

export type ChromiumSource = 'env' | 'debian' | 'npm';

export interface ChromiumInstall {
  executablePath: string;
  source: ChromiumSource;
}

/**
 * The Chromium the browser tests drive, found without a hand-installed browser: `DAPPLE_CHROMIUM_PATH` if set,
 * else Debian's chromium if installed, else the headless Chromium that `@sparticuz/chromium` ships inside its npm
 * tarball (brotli-compressed; unpacked once into the OS temp dir, a few seconds the first time). `npm ci` brings the
 * last, so `npm test` needs nothing else.
 */
export async function findChromium(
  options: { env?: NodeJS.ProcessEnv; debianPath?: string } = {},
): Promise<ChromiumInstall> {
  const fromEnv = testEnv(options.env).DAPPLE_CHROMIUM_PATH;
  const debianPath = options.debianPath ?? DEBIAN_CHROMIUM_PATH;
  if (fromEnv) {
    if (!(await isExecutable(fromEnv))) throw new Error(`DAPPLE_CHROMIUM_PATH=${fromEnv} is not an executable file`);
    return { executablePath: fromEnv, source: 'env' };
  }
  if (await isExecutable(debianPath)) return { executablePath: debianPath, source: 'debian' };
  return { executablePath: await unpackNpmChromium(), source: 'npm' };
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * `@sparticuz/chromium` unpacks to `<tmpdir>/chromium` and skips the work when that file exists. Test files run in
 * parallel workers, so one unpacks under a lock while the others wait; a marker written after a complete unpack
 * tells a finished binary from one cut short by a killed process (which is then unpacked again).
 */
export async function unpackNpmChromium(): Promise<string> {
  const { default: Chromium } = await import('@sparticuz/chromium');
  // The package exports no package.json; its version sits two levels above the entry point (build/index.js).
  const packageJson = join(dirname(require.resolve('@sparticuz/chromium')), '..', 'package.json');
  const { version } = JSON.parse(await readFile(packageJson, 'utf8')) as { version: string };
  const lock = join(tmpdir(), 'dapple-chromium.lock');
  const marker = join(tmpdir(), 'dapple-chromium.unpacked');
  await acquire(lock);
  try {
    // The package skips unpacking when <tmpdir>/chromium exists, whatever version or state it is in.
    if ((await readFile(marker, 'utf8').catch(() => '')) !== version) {
      await rm(join(tmpdir(), 'chromium'), { force: true });
    }
    const path = await Chromium.executablePath();
    await writeFile(marker, version);
    return path;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** A directory as a cross-process lock; one left by a killed process is taken over after two minutes. */
async function acquire(lock: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(lock);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 120_000) await rm(lock, { recursive: true, force: true });
      else if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${lock} (another test unpacking Chromium)`, { cause: err });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
}
