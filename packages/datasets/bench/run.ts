/**
 * Prepare throughput: N generated 256×256 JPEGs → 32×32 RGB shards through `prepareDataset`,
 * against sharp alone doing read + decode + resize of the same files at the same concurrency,
 * measured in the same run. Prints JSON lines; `ratio` = prepare / sharp-alone (target ≥ 0.7).
 *
 *   npm run bench -w packages/datasets -- --n 5000 [--concurrency 3] [--rounds 3] [--read file|stream]
 *                                          [--thumbnails 64] [--archive zip|tar]
 *
 * Both sides read each file the same way (`--read`). With `--archive`, prepare instead streams one
 * zip/tar of the same JPEGs (e.g. `--n 50000 --archive zip` ≈ 1 GB) and peak RSS shows whether
 * memory stays flat. The machine is shared and noisy: each round alternates which side runs first,
 * the summary takes medians, and `cpu_ratio` (CPU time of all threads per image) is the steadier figure.
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs, promisify } from 'node:util';
import sharp from 'sharp';
import { configureSharp } from '../src/image.ts';
import { prepareDataset } from '../src/prepare.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: String(os.availableParallelism() + 1) },
    rounds: { type: 'string', default: '3' },
    thumbnails: { type: 'string', default: '64' },
    /** How both sides read a file: `file` = fs.readFile, `stream` = fs.createReadStream. */
    read: { type: 'string', default: 'file' },
    /** `zip` or `tar`: prepare reads the same JPEGs from one archive (stream), to watch peak RSS. */
    archive: { type: 'string', default: '' },
  },
});
const N = Number(values.n);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const RES = 32;
const SIDE = 256;
const READ = values.read === 'stream' ? 'stream' : 'file';

/** The same read for the baseline and for prepare, so the ratio compares the processing only. */
async function readWhole(file: string): Promise<Buffer> {
  if (READ === 'file') return readFile(file);
  const parts: Buffer[] = [];
  for await (const chunk of createReadStream(file)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

configureSharp({ threadsPerImage: 1 });

/** Samples RSS every 20 ms while `run` runs. */
async function measure<T>(
  run: () => Promise<T>,
): Promise<{ value: T; seconds: number; cpuSeconds: number; peakRssMb: number }> {
  let peak = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const start = process.hrtime.bigint();
  try {
    const value = await run();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    peak = Math.max(peak, process.memoryUsage.rss());
    const used = process.cpuUsage(cpu);
    return { value, seconds, cpuSeconds: (used.user + used.system) / 1e6, peakRssMb: Math.round(peak / 2 ** 20) };
  } finally {
    clearInterval(timer);
  }
}

async function generate(dir: string): Promise<string[]> {
  const files: string[] = [];
  const raw = Buffer.alloc(SIDE * SIDE * 3);
  for (let i = 0; i < N; i++) {
    // A different smooth pattern per image, plus per-image noise: realistic JPEG sizes, no duplicates.
    let state = (i + 1) * 2654435761;
    for (let p = 0, y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++, p += 3) {
        state = (state * 1664525 + 1013904223) >>> 0;
        const noise = state >>> 28;
        raw[p] = (x * (1 + (i % 5)) + i + noise) & 255;
        raw[p + 1] = (y * (1 + (i % 3)) + 2 * i + noise) & 255;
        raw[p + 2] = ((x ^ y) + 3 * i) & 255;
      }
    }
    const file = path.join(dir, `class${i % 10}`, `${i}.jpg`);
    if (i < 10) await mkdir(path.dirname(file), { recursive: true });
    await writeFile(
      file,
      await sharp(raw, { raw: { width: SIDE, height: SIDE, channels: 3 } })
        .jpeg({ quality: 85 })
        .toBuffer(),
    );
    files.push(file);
  }
  return files;
}

/** Baseline: what sharp alone does for the same work — read, decode, resize/crop to 32×32 raw. */
async function sharpAlone(files: string[]): Promise<number> {
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++]!;
      const data = await readWhole(file);
      const out = await sharp(data).resize(RES, RES, { fit: 'cover', kernel: 'lanczos3' }).raw().toBuffer();
      bytes += out.length;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return bytes;
}

const ARCHIVE = values.archive === 'zip' || values.archive === 'tar' ? values.archive : null;

/** Packs the generated folder with the system's zip (stored, like most image zips) or tar. */
async function pack(dir: string, format: 'zip' | 'tar'): Promise<string> {
  const target = path.join(path.dirname(dir), `in.${format}`);
  const args = format === 'zip' ? ['-0', '-q', '-r', target, '.'] : ['cf', target, '.'];
  await promisify(execFile)(format, args, { cwd: dir });
  return target;
}

async function prepare(files: string[], root: string, outDir: string, archive: string | null): Promise<number> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(path.join(outDir, 'thumbs'), { recursive: true });
  const inputs = archive
    ? [
        {
          path: path.basename(archive),
          size: (await stat(archive)).size,
          open: async () => createReadStream(archive, { highWaterMark: 256 * 1024 }),
        },
      ]
    : files.map((file) => ({
        path: path.relative(root, file),
        size: 0,
        open: async () => (READ === 'file' ? [await readFile(file)] : createReadStream(file)),
      }));
  const result = await prepareDataset({
    files: inputs,
    resolution: RES,
    channels: 3,
    concurrency: CONCURRENCY,
    thumbnailSize: Number(values.thumbnails),
    // Like the embedded DiskStore: every object becomes a file.
    writeObject: async (name, data, size) => {
      const target = path.join(outDir, name);
      if (Buffer.isBuffer(data)) await writeFile(target, data);
      else await pipeline(data, createWriteStream(target));
      void size;
    },
  });
  if (result.manifest.counts.accepted !== files.length)
    throw new Error(`accepted ${result.manifest.counts.accepted} of ${files.length}`);
  return result.manifest.shards.length;
}

const root = await mkdtemp(path.join(os.tmpdir(), 'dapple-bench-datasets-'));
try {
  const gen = await measure(() => generate(path.join(root, 'in')));
  const files = gen.value;
  console.log(JSON.stringify({ bench: 'datasets.generate', n: N, side: SIDE, seconds: +gen.seconds.toFixed(2) }));
  const archive = ARCHIVE ? await pack(path.join(root, 'in'), ARCHIVE) : null;
  if (archive)
    console.log(
      JSON.stringify({
        bench: 'datasets.pack',
        format: ARCHIVE,
        archive_mb: +((await stat(archive)).size / 2 ** 20).toFixed(1),
      }),
    );
  await sharpAlone(files.slice(0, 200)); // warm up sharp, the page cache and the JIT
  const rounds: { base: number; prep: number; ratio: number; cpuRatio: number; rss: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which side goes first, so drift in the machine's load does not favour one side.
    const runBase = () => measure(() => sharpAlone(files));
    const runPrep = () => measure(() => prepare(files, path.join(root, 'in'), path.join(root, 'out'), archive));
    const base = round % 2 === 0 ? await runBase() : undefined;
    const prep = await runPrep();
    const baseResult = base ?? (await runBase());
    const baseRate = N / baseResult.seconds;
    const prepRate = N / prep.seconds;
    // CPU time (all threads) per image is far less sensitive to other load on the machine than wall time.
    const cpuRatio = baseResult.cpuSeconds / prep.cpuSeconds;
    rounds.push({ base: baseRate, prep: prepRate, ratio: prepRate / baseRate, cpuRatio, rss: prep.peakRssMb });
    console.log(
      JSON.stringify({
        bench: 'datasets.prepare.round',
        round,
        n: N,
        concurrency: CONCURRENCY,
        read: ARCHIVE ? `${ARCHIVE} archive stream` : READ,
        sharp_alone_img_s: +baseRate.toFixed(1),
        prepare_img_s: +prepRate.toFixed(1),
        ratio: +(prepRate / baseRate).toFixed(3),
        sharp_alone_cpu_ms_per_img: +((1000 * baseResult.cpuSeconds) / N).toFixed(3),
        prepare_cpu_ms_per_img: +((1000 * prep.cpuSeconds) / N).toFixed(3),
        cpu_ratio: +cpuRatio.toFixed(3),
        shards: prep.value,
        peak_rss_mb: prep.peakRssMb,
      }),
    );
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    JSON.stringify({
      bench: 'datasets.prepare',
      n: N,
      from: `${SIDE}x${SIDE} jpeg`,
      to: `${RES}x${RES}x3 shards`,
      concurrency: CONCURRENCY,
      read: ARCHIVE ? `${ARCHIVE} archive stream` : READ,
      rounds: ROUNDS,
      sharp_alone_img_s: +median(rounds.map((r) => r.base)).toFixed(1),
      prepare_img_s: +median(rounds.map((r) => r.prep)).toFixed(1),
      ratio: +median(rounds.map((r) => r.ratio)).toFixed(3),
      cpu_ratio: +median(rounds.map((r) => r.cpuRatio)).toFixed(3),
      target: 0.7,
      peak_rss_mb: Math.max(...rounds.map((r) => r.rss)),
    }),
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
