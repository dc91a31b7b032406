import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { REPLICA_WORKER_BUNDLE_FILE } from '@dapple/models/parallel';
import { TRAINER_BUNDLE_SOURCES } from './local.ts';
import { buildTrainerBundle, isStale, trainerBundler } from './trainer-bundle.ts';

const run = promisify(execFile);
const REPO_ROOT = TRAINER_BUNDLE_SOURCES.root;
const made: string[] = [];
afterAll(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

describe('the trainer bundle', () => {
  it('runs the real trainer with plain node, its packages resolved from node_modules', async () => {
    // Inside the repository, as the executor's bundle is: third-party imports resolve from there.
    await mkdir(TRAINER_BUNDLE_SOURCES.outDir, { recursive: true });
    const outDir = await mkdtemp(join(TRAINER_BUNDLE_SOURCES.outDir, 'test-'));
    made.push(outDir);
    const bundle = await buildTrainerBundle({ ...TRAINER_BUNDLE_SOURCES, outDir });
    expect(bundle.inputs).toContain(join(REPO_ROOT, 'apps/trainer/src/main.ts'));
    expect(bundle.inputs).toContain(join(REPO_ROOT, 'packages/models/src/parallel/worker.ts'));
    expect(await readFile(join(outDir, REPLICA_WORKER_BUNDLE_FILE), 'utf8')).toContain('parentPort');
    expect(await isStale(bundle)).toBe(false);

    // `--check-gpu` loads everything a run loads (TF.js, the wasm backend and its binaries) and exits 2 on a CPU.
    const checked = await run(process.execPath, ['--enable-source-maps', bundle.main, '--check-gpu'], {
      env: { PATH: process.env['PATH'] ?? '', DAPPLE_TF_BACKEND: 'wasm' },
    }).then(
      () => ({ code: 0, stdout: '' }),
      (err: { code: number; stdout: string }) => err,
    );
    expect(checked.stdout).toContain('compute: wasm');
    expect(checked.code).toBe(2);

    // Without its environment the trainer fails with a stack trace that names our source, not the bundle.
    const failed = await run(process.execPath, ['--enable-source-maps', bundle.main, '--run-id=x'], {
      env: { PATH: process.env['PATH'] ?? '' },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('DAPPLE_HUB_URL');
    expect(failed.stderr).toMatch(/apps\/trainer\/src\/env\.ts:\d+/);
  });

  it('is rebuilt before the next launch once a source file changed, and once when several callers ask', async () => {
    const src = await mkdtemp(join(tmpdir(), 'dapple-bundle-src-'));
    made.push(src);
    await writeFile(join(src, 'main.ts'), `import { word } from './word.ts';\nconsole.log(word);\n`);
    await writeFile(join(src, 'word.ts'), `export const word: string = 'before';\n`);
    await writeFile(join(src, 'worker.ts'), `export {};\n`);
    const outDir = join(src, 'dist');
    const bundle = trainerBundler({
      main: join(src, 'main.ts'),
      replicaWorker: join(src, 'worker.ts'),
      outDir,
      root: src,
    });
    const [first, same] = await Promise.all([bundle(), bundle()]);
    expect(same).toBe(first);
    expect((await run(process.execPath, [first.main])).stdout.trim()).toBe('before');
    expect(await bundle()).toBe(first);

    await writeFile(join(src, 'word.ts'), `export const word: string = 'after';\n`);
    // Whatever the file system's timestamp resolution: the edit is later than the build.
    const later = new Date(first.builtAt + 5_000);
    await utimes(join(src, 'word.ts'), later, later);
    expect(await isStale(first)).toBe(true);
    const second = await bundle();
    expect(second).not.toBe(first);
    expect((await run(process.execPath, [second.main])).stdout.trim()).toBe('after');

    // A source that does not compile fails the build with esbuild's message; fixed, the next call builds again.
    await writeFile(join(src, 'word.ts'), `export const word: string = ;\n`);
    await utimes(join(src, 'word.ts'), new Date(Date.now() + 10_000), new Date(Date.now() + 10_000));
    await expect(bundle()).rejects.toThrow(/word\.ts/);
    await writeFile(join(src, 'word.ts'), `export const word: string = 'fixed';\n`);
    const third = await bundle();
    expect((await run(process.execPath, [third.main])).stdout.trim()).toBe('fixed');
  });
});
