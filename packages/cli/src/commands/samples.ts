import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CommandContext } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { request, type Connection } from '../graphql.ts';
import { flagError } from '../flag-error.ts';
import { cancelOnInterrupt, followJob } from '../follow.ts';
import { floatFlag, intFlag, samplerFlag, str, type Flags } from '../flag-values.ts';
import { decodePng, encodePng, tileGrid } from '../png.ts';
import { resolveModelVersion } from '../resolve-id.ts';

export const samplesHelp = `dapple samples <modelVersion> [--count 16] [--sampler dpmpp-2m-sde] [--steps 50] [--eta 0] [--seed N]
               [--label <name> ...] [--guidance 3] [--temperature 0.7] [--out ./samples] [--grid | --grid-only] [--json]
  <modelVersion>: a model version id (or unique prefix), or <model>@<alias|number> (faces@latest, faces@3).
  A run's checkpoint is sampled once published: dapple model publish <runId> --name <model>.
  Each --label queues one job of --count images; files go to --out as 00.png… (<label>-00.png… with labels),
  --grid also writes grid.png (a row per label), --grid-only writes only the grid.`;

const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
/** generateSamples input fields the hub may name in BAD_USER_INPUT, and the flag a user gave them with. */
const FLAG_OF: Record<string, string> = {
  count: 'count',
  steps: 'steps',
  sampler: 'sampler',
  eta: 'eta',
  seed: 'seed',
  guidance: 'guidance',
  label: 'label',
  temperature: 'temperature',
  modelVersionId: '<modelVersion>',
};

interface Job {
  id: string;
  status: string;
  queuePosition: number | null;
  progress: { stepsDone: number; stepsTotal: number; fraction: number };
  params: {
    count: number;
    steps: number;
    sampler: string;
    eta: number;
    seed: number;
    guidance: number | null;
    label: string | null;
  };
  images: { index: number; url: string }[];
  error: string | null;
}
const JOB_FIELDS = `id status queuePosition progress { stepsDone stepsTotal fraction }
  params { count steps sampler eta seed guidance label } images { index url } error`;

/** The flags as generateSamples input (without modelVersionId and label), checked here so errors name the flag. */
export function sampleInput(flags: Flags): Record<string, unknown> {
  const sampler = samplerFlag(flags);
  const input: Record<string, unknown> = {
    count: intFlag(flags, 'count', 1, 64) ?? 16,
    steps: intFlag(flags, 'steps', 1, 1000),
    sampler: sampler?.toUpperCase().replace(/-/g, '_'),
    eta: floatFlag(flags, 'eta'),
    seed: intFlag(flags, 'seed', 0, 2 ** 31 - 1),
    guidance: floatFlag(flags, 'guidance'),
    temperature: floatFlag(flags, 'temperature'),
  };
  return input; // flags not given stay undefined: JSON leaves them out, and the hub applies its defaults
}

/** Queues the jobs, follows them to the end with progress on stderr, downloads the PNGs (and/or a grid). */
export async function samples(ctx: CommandContext, ref: string | undefined, flags: Flags): Promise<void> {
  if (!ref) throw new UsageError('samples needs a model version (an id, or <model>@<alias>, e.g. faces@latest)');
  const input = sampleInput(flags);
  const labels = (flags.label as string[] | undefined) ?? [];
  if (new Set(labels).size !== labels.length) throw new UsageError('--label: a label is given twice');
  if (flags.grid && flags['grid-only']) throw new UsageError('--grid-only already writes the grid: drop --grid');
  const outDir = resolve(str(flags.out) ?? 'samples');
  const conn = await ctx.connection(flags);
  const modelVersionId = await resolveModelVersion(conn, ref);
  const started = Date.now();

  const jobs: Job[] = [];
  for (const label of labels.length ? labels : [null]) {
    const { generateSamples } = await request<{ generateSamples: Job }>(
      conn,
      `mutation ($input: GenerateSamplesInput!) { generateSamples(input: $input) { ${JOB_FIELDS} } }`,
      { input: { modelVersionId, ...input, ...(label !== null && { label }) } },
    ).catch(async (err: unknown) => {
      // The hub names the input field: say which flag that was, and cancel the jobs queued before it.
      await Promise.all(jobs.map((j) => cancel(conn, j.id)));
      throw flagError(err, FLAG_OF);
    });
    jobs.push(generateSamples);
  }

  const stopListening = cancelOnInterrupt(() => Promise.all(jobs.map((j) => cancel(conn, j.id))));
  try {
    const progress = progressLine(flags.json ? null : process.stderr);
    for (let i = 0; i < jobs.length; i++) {
      jobs[i] = await followJob(conn, jobs[i]!, {
        query: `query ($id: ID!) { sampleJob(id: $id) { ${JOB_FIELDS} } }`,
        finished: FINISHED,
        progressKey: (job) => `${job.status}|${job.queuePosition}|${job.progress.stepsDone}`,
        onChange: (job) => progress(job, i, jobs.length),
        intervalMs: 400,
      });
    }
  } finally {
    stopListening();
  }
  const failed = jobs.find((j) => j.status !== 'SUCCEEDED');
  if (failed)
    throw new CliError(
      `sample job ${failed.id} ${failed.status.toLowerCase()}${failed.error ? `: ${failed.error}` : ''}`,
      failed.status,
    );

  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  const decoded = [];
  for (const job of jobs) {
    for (const image of [...job.images].sort((a, b) => a.index - b.index)) {
      const bytes = await download(conn, image.url, `image ${image.index} of job ${job.id}`);
      if (flags.grid || flags['grid-only']) decoded.push(decodePng(bytes, `image ${image.index} of job ${job.id}`));
      if (flags['grid-only']) continue;
      const name = `${job.params.label !== null ? `${safeName(job.params.label)}-` : ''}${String(image.index).padStart(2, '0')}.png`;
      await writeFile(join(outDir, name), bytes);
      files.push(join(outDir, name));
    }
  }
  let grid: string | null = null;
  if (decoded.length) {
    const columns = labels.length ? (jobs[0]?.params.count ?? 1) : Math.ceil(Math.sqrt(decoded.length));
    grid = join(outDir, 'grid.png');
    await writeFile(grid, encodePng(tileGrid(decoded, columns)));
  }
  const seconds = (Date.now() - started) / 1000;
  const summary = {
    modelVersionId,
    jobs: jobs.map((j) => ({ id: j.id, status: j.status, ...j.params })),
    files,
    grid,
    seconds,
  };
  if (flags.json) return ctx.io.out(JSON.stringify(summary));
  const p = jobs[0]!.params;
  ctx.io.out(
    `Sampled ${jobs.reduce((n, j) => n + j.params.count, 0)} images from model version ${modelVersionId} ` +
      `(${p.sampler}, ${p.steps} steps, seed ${p.seed}${labels.length ? `, labels ${labels.join(', ')}` : ''}` +
      `${p.guidance !== null ? `, guidance ${p.guidance}` : ''}) in ${seconds.toFixed(1)} s ` +
      `→ ${outDir}${files.length ? ` (${files.length} PNGs${grid ? ' + grid.png' : ''})` : grid ? ' (grid.png)' : ''}; jobs ${jobs.map((j) => j.id).join(', ')}`,
  );
}

async function cancel(conn: Connection, id: string): Promise<void> {
  await request(conn, `mutation ($id: ID!) { cancelSampleJob(id: $id) { id } }`, { id }).catch(() => undefined);
}

async function download(conn: Connection, url: string, what: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(new URL(url, conn.url));
  } catch (err) {
    throw new CliError(`could not download ${what}: ${(err as Error).message}`, 'NETWORK');
  }
  if (!res.ok) throw new CliError(`could not download ${what}: HTTP ${res.status}`, `HTTP_${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A label as a file-name part (labels are folder names of the dataset, but may hold anything). */
const safeName = (label: string) => label.replace(/[^\w.-]+/g, '_');

/**
 * Progress on stderr: a line redrawn in place on a terminal; otherwise one line per phase change (queued,
 * running, finished), so logs of a script show what happened without a line per step.
 */
function progressLine(stream: NodeJS.WriteStream | null): (job: Job, i: number, n: number) => void {
  if (!stream) return () => {};
  let lastPhase = '';
  return (job, i, n) => {
    const which = n > 1 ? `job ${i + 1}/${n}${job.params.label ? ` (${job.params.label})` : ''}: ` : '';
    const phase =
      job.status === 'QUEUED'
        ? `queued${job.queuePosition !== null ? ` (${job.queuePosition === 0 ? 'starts next' : `${job.queuePosition} ahead`})` : ''}`
        : job.status === 'RUNNING'
          ? 'running'
          : job.status.toLowerCase();
    if (stream.isTTY) {
      const bar = job.status === 'RUNNING' ? ` ${job.progress.stepsDone}/${job.progress.stepsTotal} steps` : '';
      stream.write(`\r\x1b[K${which}${phase}${bar}${FINISHED.has(job.status) ? '\n' : ''}`);
    } else if (`${i}|${phase}` !== lastPhase) {
      stream.write(`${which}${phase}\n`);
    }
    lastPhase = `${i}|${phase}`;
  };
}
