// `npx tsx apps/web/bench/upload.ts`: a folder upload through the real browser path (Chromium → the dashboard's
// new-dataset page → the production dashboard's /objects proxy → the hub's DiskStore), against two raw PUTs over the
// same path, measured in the same process, interleaved per round: the same number of bytes from memory in one
// request (the network's rate); the picked files themselves as one Blob in one request (what a plain page does);
// and the picked files read the fastest way found, then PUT (the browser's disk rate plus the network's).
//  - many-small: --small-files files (5000) totalling --small-mb MB (3)
//  - fewer-large: --large-files files (500) totalling --large-mb MB (300)
// Time is from the Upload click to the hub's answer to completeUpload (every byte stored and verified), and also
// from the files landing in the input (the page starts reading small files then; the baselines start with nothing
// read, so `ratio_from_pick_vs_read_then_put` is the like-for-like one); the dataset.prepare job is off. Medians over --rounds (2). One JSON line per case, also
// appended to apps/web/bench/results/upload.jsonl, with the load average (the machine is shared).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median, startBenchHub } from './bench-dashboard';

const { values: args } = parseArgs({
  options: {
    'small-files': { type: 'string', default: '5000' },
    'small-mb': { type: 'string', default: '3' },
    'large-files': { type: 'string', default: '500' },
    'large-mb': { type: 'string', default: '300' },
    rounds: { type: 'string', default: '2' },
    /** Comma-separated case names to run (default: all). */
    cases: { type: 'string', default: 'many-small,fewer-large' },
    /** Free text added to each line's note (what changed since the last run). */
    note: { type: 'string', default: '' },
    /** The results file under apps/web/bench/results/ the lines are appended to. */
    out: { type: 'string', default: 'upload.jsonl' },
  },
});
const ROUNDS = Number(args.rounds);
const RESULTS = fileURLToPath(new URL(`./results/${args.out}`, import.meta.url));
/** The commit measured, `+dirty` when the work tree differs from it (results files aside). */
const REVISION = (() => {
  const git = (...a: string[]) => execFileSync('git', a, { encoding: 'utf8' }).trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', '.', ':!apps/web/bench/results').length > 0 ? '+dirty' : ''}`;
  } catch {
    return 'unknown';
  }
})();

const bench = await startBenchHub('upload', { poolMax: 2 });
const { root, store } = bench;
try {
  const { context } = await bench.openDashboard({ timeoutMs: 600_000 });
  const page = await context.newPage();

  const cases = [
    { name: 'many-small', files: Number(args['small-files']), bytes: Number(args['small-mb']) * 1e6 },
    { name: 'fewer-large', files: Number(args['large-files']), bytes: Number(args['large-mb']) * 1e6 },
  ];
  const folders = new Map<string, string>();
  for (const c of cases) {
    const dir = join(root, c.name);
    const each = Math.floor(c.bytes / c.files);
    for (const label of ['a', 'b']) await mkdir(join(dir, label), { recursive: true });
    for (let i = 0; i < c.files; i++) await writeFile(join(dir, i % 2 ? 'b' : 'a', `${i}.png`), randomBytes(each));
    folders.set(c.name, dir);
    c.bytes = each * c.files;
  }

  /** The dashboard's own upload: pick the folder, click Upload, until completeUpload answered. */
  /** Where one upload's time went: each request the page made after the click, from/to ms since the click. */
  type Step = { what: string; from: number; to: number; bytes: number };
  async function viaPage(
    name: string,
    dir: string,
    files: number,
  ): Promise<{ seconds: number; fromPick: number; steps: Step[] }> {
    await page.goto('/t/bench/datasets/new');
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.evaluate(() => performance.clearMarks());
    await page.locator('input[webkitdirectory]').setInputFiles(dir);
    const pickedAt = Date.now();
    const button = page.getByRole('button', { name: `Upload ${files.toLocaleString('en')} images` });
    await button.waitFor();
    const completed = page.waitForResponse(
      (r) => r.request().method() === 'POST' && (r.request().postData() ?? '').includes('CompleteUpload'),
    );
    const steps: Step[] = [];
    const open = new Map<import('playwright-core').Request, Step>();
    const onRequest = (r: import('playwright-core').Request) => {
      const url = new URL(r.url());
      const op = /"?(?:mutation|query)\s+(\w+)/.exec(r.postData() ?? '')?.[1];
      const what = op ?? `${r.method()} ${url.pathname.replace(/[0-9a-f-]{36}/g, ':id')}`;
      const step = { what, from: performance.now() - started, to: NaN, bytes: r.postDataBuffer()?.length ?? 0 };
      open.set(r, step);
      steps.push(step);
    };
    const onDone = (r: import('playwright-core').Request) => {
      const step = open.get(r);
      if (step) step.to = performance.now() - started;
    };
    // When the form's submit handler runs (the click waits for the page's main thread: work left from the pick).
    await page.evaluate(() => {
      const w = window as unknown as { submitAt?: number };
      delete w.submitAt;
      document.addEventListener('submit', () => (w.submitAt = Date.now()), { capture: true, once: true });
    });
    const clickedAt = Date.now();
    page.on('request', onRequest);
    page.on('requestfinished', onDone);
    page.on('requestfailed', onDone);
    const started = performance.now();
    await button.click();
    const response = await completed;
    const seconds = (performance.now() - started) / 1000;
    const fromPick = (Date.now() - pickedAt) / 1000;
    page.off('request', onRequest);
    page.off('requestfinished', onDone);
    page.off('requestfailed', onDone);
    const submitAt = await page.evaluate(() => (window as unknown as { submitAt?: number }).submitAt ?? NaN);
    steps.unshift({ what: 'click → submit handler', from: 0, to: submitAt - clickedAt, bytes: 0 });
    steps.unshift({ what: 'files picked (read-ahead starts) → click', from: pickedAt - clickedAt, to: 0, bytes: 0 });
    // The page's own marks (lib/upload/items.ts): when the read-ahead ended, when each part's body was ready.
    const marks = await page.evaluate(() =>
      performance
        .getEntriesByType('mark')
        .filter((m) => m.name.startsWith('dapple-upload:'))
        .map((m) => ({ name: m.name.slice('dapple-upload:'.length), at: performance.timeOrigin + m.startTime })),
    );
    for (const m of marks)
      steps.push({ what: `mark: ${m.name}`, from: m.at - clickedAt, to: m.at - clickedAt, bytes: 0 });
    steps.sort((a, b) => a.from - b.from);
    const body = (await response.json()) as { errors?: unknown };
    if (body.errors) throw new Error(`completeUpload failed: ${JSON.stringify(body.errors)}`);
    await page.waitForURL((url) => url.pathname === '/t/bench/datasets');
    return { seconds, fromPick, steps: steps.filter((s) => !/^GET /.test(s.what)) };
  }

  /** The same number of bytes in one PUT from the same page to a signed URL on the same origin. */
  async function rawPut(bytes: number): Promise<number> {
    const key = `bench/raw-${Date.now()}`;
    const signed = await store.presignPut(key, { size: bytes });
    await page.goto('/t/bench/datasets'); // same origin as the uploads (no CORS preflight)
    const seconds = await page.evaluate(
      async ({ url, size }) => {
        const chunks: Uint8Array<ArrayBuffer>[] = [];
        for (let left = size; left > 0; left -= 65536) {
          const chunk = new Uint8Array(Math.min(65536, left));
          crypto.getRandomValues(chunk);
          chunks.push(chunk);
        }
        const body = new Blob(chunks);
        const started = performance.now();
        const res = await fetch(url, { method: 'PUT', body });
        if (!res.ok) throw new Error(`raw PUT: HTTP ${res.status} ${await res.text()}`);
        return (performance.now() - started) / 1000;
      },
      { url: signed.url, size: bytes },
    );
    await store.delete(key);
    return seconds;
  }

  /**
   * Picks the folder into a bare input (id `bench-picked`) on a page of the same origin, so that the dashboard's
   * own handlers do not read it, then runs `send` in the page with a signed PUT URL for `bytes`: its seconds.
   */
  async function timePickedFolder(dir: string, bytes: number, send: (url: string) => Promise<number>): Promise<number> {
    const key = `bench/picked-${Date.now()}`;
    const signed = await store.presignPut(key, { size: bytes });
    await page.goto('/t/bench/datasets');
    await page.evaluate(() => {
      const input = document.createElement('input');
      input.type = 'file';
      input.webkitdirectory = true;
      input.id = 'bench-picked';
      document.body.append(input);
    });
    await page.locator('#bench-picked').setInputFiles(dir);
    const seconds = await page.evaluate(send, signed.url);
    await store.delete(key);
    return seconds;
  }

  /**
   * What a plain page does to send the picked files: one Blob made of the File objects (no bytes read by the page),
   * one PUT. Chromium's browser process opens and reads every file while the request waits.
   */
  const rawPutFiles = (dir: string, bytes: number) =>
    timePickedFolder(dir, bytes, async (url) => {
      const input = document.getElementById('bench-picked') as HTMLInputElement;
      const started = performance.now();
      const res = await fetch(url, { method: 'PUT', body: new Blob(Array.from(input.files ?? [])) });
      if (!res.ok) throw new Error(`raw PUT of the files: HTTP ${res.status} ${await res.text()}`);
      return (performance.now() - started) / 1000;
    });

  /**
   * The picked files read into memory the fastest way found for a page (Blobs of 100 Files, 8 reads at once: see
   * lib/upload/read-ahead.ts), then their bytes in one PUT: a raw upload of the folder with no protocol of ours
   * (no packing, no checksums, no dataset), i.e. the browser's disk rate plus the network's.
   */
  const readThenPut = (dir: string, bytes: number) =>
    timePickedFolder(dir, bytes, async (url) => {
      const files = Array.from((document.getElementById('bench-picked') as HTMLInputElement).files ?? []);
      const started = performance.now();
      const groups: File[][] = [];
      for (let i = 0; i < files.length; i += 100) groups.push(files.slice(i, i + 100));
      const buffers: ArrayBuffer[] = new Array<ArrayBuffer>(groups.length);
      let next = 0;
      // Inline (not a named const): tsx would wrap a named function in a helper the page does not have.
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < groups.length) {
            const index = next++;
            buffers[index] = await new Blob(groups[index]).arrayBuffer();
          }
        }),
      );
      const res = await fetch(url, { method: 'PUT', body: new Blob(buffers) });
      if (!res.ok) throw new Error(`read-then-PUT: HTTP ${res.status} ${await res.text()}`);
      return (performance.now() - started) / 1000;
    });

  await mkdir(join(fileURLToPath(new URL('./results/', import.meta.url))), { recursive: true });
  const wanted = new Set(args.cases.split(','));
  for (const c of cases) {
    if (!wanted.has(c.name)) continue;
    const ours: number[] = [];
    // From the files landing in the input: the page starts reading them then, before the click (see read-ahead.ts).
    const oursFromPick: number[] = [];
    const raw: number[] = [];
    const rawFiles: number[] = [];
    const readPut: number[] = [];
    let slowest: Step[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      raw.push(await rawPut(c.bytes));
      rawFiles.push(await rawPutFiles(folders.get(c.name)!, c.bytes));
      readPut.push(await readThenPut(folders.get(c.name)!, c.bytes));
      const run = await viaPage(`${c.name}-${round}-${Date.now()}`, folders.get(c.name)!, c.files);
      ours.push(run.seconds);
      oursFromPick.push(run.fromPick);
      if (run.seconds >= Math.max(...ours)) slowest = run.steps;
    }
    const seconds = median(ours);
    // Where the slowest round's time went (ms since the click); the requests overlap where they run in parallel.
    const steps = slowest.map((s) => `${s.what} ${Math.round(s.from)}–${Math.round(s.to)} ms (${s.bytes} B)`);
    process.stderr.write(
      `${c.name} rounds ${ours.map((s) => s.toFixed(2)).join(', ')} s; slowest:\n  ${steps.join('\n  ')}\n`,
    );
    const rawSeconds = median(raw);
    const rawFilesSeconds = median(rawFiles);
    const readPutSeconds = median(readPut);
    const line = {
      bench: 'web.upload',
      case: c.name,
      at: new Date().toISOString(),
      files: c.files,
      bytes: c.bytes,
      seconds: Number(seconds.toFixed(3)),
      files_per_s: Math.round(c.files / seconds),
      mb_per_s: Number((c.bytes / 1e6 / seconds).toFixed(2)),
      raw_put_seconds: Number(rawSeconds.toFixed(3)),
      raw_put_mb_per_s: Number((c.bytes / 1e6 / rawSeconds).toFixed(2)),
      ratio_vs_raw_put: Number((rawSeconds / seconds).toFixed(3)),
      raw_put_files_seconds: Number(rawFilesSeconds.toFixed(3)),
      ratio_vs_raw_put_files: Number((rawFilesSeconds / seconds).toFixed(3)),
      seconds_from_pick: Number(median(oursFromPick).toFixed(3)),
      read_then_put_seconds: Number(readPutSeconds.toFixed(3)),
      ratio_from_pick_vs_read_then_put: Number((readPutSeconds / median(oursFromPick)).toFixed(3)),
      rounds: ROUNDS,
      loadavg: loadavg().map((l) => Number(l.toFixed(2))),
      requests: slowest.filter((step) => !/^(mark:|click|files picked)/.test(step.what)).length,
      revision: REVISION,
      note: `2-core machine (load average in the line); Chromium → next start /objects proxy → hub DiskStore${args.note ? `; ${args.note}` : ''}`,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    await appendFile(RESULTS, `${JSON.stringify(line)}\n`);
  }
} finally {
  await bench.close();
}
