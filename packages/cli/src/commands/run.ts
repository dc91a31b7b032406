import { runConfigToGraphQL } from '@dapple/contracts/run-config-shape';
import type { CommandContext } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { num, table } from '../format.ts';
import { request, type Connection } from '../graphql.ts';
import { resolveId } from '../resolve-id.ts';
import { teamId } from './team.ts';

type Flags = Record<string, string | boolean | string[] | undefined>;
const str = (v: Flags[string]) => (typeof v === 'string' ? v : undefined);

export const runHelp = `dapple run start --dataset-version <id> --preset tiny [--name <name>] [--seed N] [--priority N] [--set key=value ...]
dapple run start --dataset-version <id> --from-model-version <id> [--preset p] [--set key=value ...]
dapple run list [--team <slug>] [--status running,queued] [--first 20]
dapple run logs <runId> [--tail 200] [--follow]
dapple run cancel <runId>
dapple run delete <runId> [--yes]   (without --yes: says what would be freed and deletes nothing)
  Ids may be shortened to any unique prefix (at least 4 characters), as shown in the dashboard.
  --set takes config fields; steps defaults per preset (tiny 2000, small 100000, base 800000) (e.g. --set steps=2000 --set lr=2e-4 --set model.channelMults=[1,2]);
  model.resolution defaults to the dataset's image size; enum values as in the docs (--set optimizer=adam --set sampleSampler=ddim);
  values are parsed as JSON when they are valid JSON, else kept as strings. --set conditioning=class|none picks class conditioning
  on the dataset labels (default: class when the dataset has ≥ 2 labels), --set labelDropout=0.1 its CFG label dropout.
  --from-model-version fine-tunes a published model version: the run starts from its weights, and its preset and model
  settings are taken from the version unless --preset / --set model.* say otherwise (they must still match it).`;

const RUN_FIELDS = 'id name status attempt progress { step totalSteps imagesPerSec etaSeconds } createdAt';

/** Parses repeated `--set a.b=value` into a nested object; values are JSON when they parse as JSON. */
export function parseOverrides(sets: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set "${s}": expected key=value`);
    const path = s.slice(0, eq);
    if (!/^[A-Za-z]\w*(\.[A-Za-z]\w*)*$/.test(path))
      throw new UsageError(`--set "${s}": "${path}" is not a config field name`);
    const raw = s.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string such as cosine or adamw
    }
    const parts = path.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) {
      const next = node[p];
      if (next !== undefined && (typeof next !== 'object' || next === null))
        throw new UsageError(`--set "${s}": ${p} is already set to a value`);
      node = (node[p] ??= {}) as Record<string, unknown>;
    }
    node[parts.at(-1)!] = value;
  }
  return out;
}

/** What a fine-tune takes from its base version's training config: the settings that shape the network. */
async function baseArchitecture(
  conn: Connection,
  versionId: string,
): Promise<{ preset?: string; model?: Record<string, unknown>; label: string }> {
  const { modelVersion } = await request<{
    modelVersion: { number: number; configJson: string; model: { name: string } };
  }>(conn, `query BaseVersion($id: ID!) { modelVersion(id: $id) { number configJson model { name } } }`, {
    id: versionId,
  });
  const training =
    (JSON.parse(modelVersion.configJson) as { training?: { preset?: unknown; model?: unknown } }).training ?? {};
  return {
    ...(typeof training.preset === 'string' ? { preset: training.preset } : {}),
    ...(training.model && typeof training.model === 'object'
      ? { model: training.model as Record<string, unknown> }
      : {}),
    label: `"${modelVersion.model.name}" v${modelVersion.number}`,
  };
}

export async function runStart(ctx: CommandContext, flags: Flags): Promise<void> {
  const datasetVersionArg = str(flags['dataset-version']);
  const fromModelVersionArg = str(flags['from-model-version']);
  if (!datasetVersionArg) throw new UsageError('run start needs --dataset-version <id>');
  if (!str(flags.preset) && !fromModelVersionArg)
    throw new UsageError('run start needs --preset (tiny | small | base)');
  const int = (name: string) => {
    const v = str(flags[name]);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name}: "${v}" is not an integer`);
    return Number(v);
  };
  const overrides = parseOverrides((flags.set as string[] | undefined) ?? []);
  if ('preset' in overrides) throw new UsageError('use --preset, not --set preset=');
  const conn = await ctx.connection(flags);
  // Ids as the dashboard shows them, or any unique prefix of them.
  const datasetVersionId = await resolveId(conn, 'dataset version', datasetVersionArg);
  const fromModelVersionId = fromModelVersionArg
    ? await resolveId(conn, 'model version', fromModelVersionArg)
    : undefined;
  const base = fromModelVersionId ? await baseArchitecture(conn, fromModelVersionId) : null;
  const preset = str(flags.preset) ?? base?.preset;
  if (!preset)
    throw new UsageError(
      `model version ${base?.label ?? fromModelVersionId} does not record its preset: pass --preset`,
    );
  const model = {
    ...(str(flags.preset) ? {} : base?.model),
    ...(overrides.model as Record<string, unknown> | undefined),
  };
  const input = {
    name:
      str(flags.name) ?? `${base ? 'finetune' : preset}-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}`,
    datasetVersionId,
    // Written as the schema writes it (tiny, adamw, dpmpp-2m-sde); GraphQL takes its enums' names (TINY, …).
    config: runConfigToGraphQL({ preset, ...overrides, ...(Object.keys(model).length ? { model } : {}) }),
    ...(int('seed') !== undefined && { seed: int('seed') }),
    ...(int('priority') !== undefined && { priority: int('priority') }),
    ...(fromModelVersionId && { fromModelVersionId }),
  };
  const { startRun } = await request<{ startRun: RunRow }>(
    conn,
    `mutation StartRun($input: StartRunInput!) { startRun(input: $input) { ${RUN_FIELDS} } }`,
    { input },
  );
  if (flags.json) return ctx.io.out(JSON.stringify(startRun));
  ctx.io.out(
    `Started run ${startRun.id} (${startRun.name}): ${startRun.status.toLowerCase()}, ${startRun.progress.totalSteps} steps${base ? `, fine-tuning ${base.label}` : ''}`,
  );
}

interface RunRow {
  id: string;
  name: string;
  status: string;
  attempt: number;
  progress: { step: number; totalSteps: number; imagesPerSec: number | null; etaSeconds: number | null };
  createdAt: string;
}

export async function runList(ctx: CommandContext, flags: Flags): Promise<void> {
  const conn = await ctx.connection(flags);
  const first = str(flags.first) ? Number(str(flags.first)) : 20;
  if (!Number.isInteger(first) || first < 1)
    throw new UsageError(`--first: "${str(flags.first)}" is not a positive integer`);
  const status = str(flags.status)
    ?.split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const id = await teamId(conn, str(flags.team));
  const { runs } = await request<{ runs: { nodes: RunRow[]; pageInfo: { hasNextPage: boolean } } }>(
    conn,
    `query Runs($teamId: ID!, $first: Int, $filter: RunFilter) { runs(teamId: $teamId, first: $first, filter: $filter) { nodes { ${RUN_FIELDS} } pageInfo { hasNextPage } } }`,
    { teamId: id, first, filter: status ? { status } : null },
  );
  if (flags.json) return ctx.io.out(JSON.stringify(runs.nodes));
  if (runs.nodes.length === 0) return ctx.io.out('No runs.');
  ctx.io.out(
    table(
      ['ID', 'NAME', 'STATUS', 'STEP', 'IMG/S', 'CREATED'],
      runs.nodes.map((r) => [
        r.id,
        r.name,
        r.status.toLowerCase(),
        `${r.progress.step}/${r.progress.totalSteps}`,
        num(r.progress.imagesPerSec),
        r.createdAt.slice(0, 19).replace('T', ' '),
      ]),
    ),
  );
  if (runs.pageInfo.hasNextPage) ctx.io.out(`… more: --first ${first * 2}`);
}

const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
interface LogLine {
  at: string;
  attempt: number;
  stream: string;
  line: string;
}

export async function runLogs(
  ctx: CommandContext,
  runId: string | undefined,
  flags: Flags,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
): Promise<void> {
  if (!runId) throw new UsageError('run logs needs a run id');
  const conn = await ctx.connection(flags);
  runId = await resolveId(conn, 'run', runId);
  const tail = str(flags.tail) ? Number(str(flags.tail)) : 200;
  if (!Number.isInteger(tail) || tail < 1)
    throw new UsageError(`--tail: "${str(flags.tail)}" is not a positive integer`);
  const intervalMs = str(flags['interval-ms']) ? Number(str(flags['interval-ms'])) : 2000;
  // Lines have no sequence number in the API: remember what was printed to print only new lines when following.
  const printed = new Set<string>();
  for (;;) {
    const { run } = await request<{ run: { status: string; logs: LogLine[] } }>(
      conn,
      `query Logs($id: ID!, $tail: Int) { run(id: $id) { status logs(tail: $tail) { at attempt stream line } } }`,
      { id: runId, tail: printed.size === 0 ? tail : 1000 },
    );
    for (const l of run.logs) {
      const sig = `${l.at}|${l.attempt}|${l.stream}|${l.line}`;
      if (printed.has(sig)) continue;
      printed.add(sig);
      if (flags.json) {
        ctx.io.out(JSON.stringify(l));
        continue;
      }
      const tag = l.stream === 'STDOUT' ? '' : `[${l.stream.toLowerCase()}] `;
      ctx.io.out(`${tag}${l.line}`);
    }
    if (!flags.follow) return;
    if (FINISHED.has(run.status)) {
      ctx.io.err(`run ${runId} ${run.status.toLowerCase()}`);
      return;
    }
    await sleep(intervalMs);
  }
}

export async function runCancel(ctx: CommandContext, runId: string | undefined, flags: Flags): Promise<void> {
  if (!runId) throw new UsageError('run cancel needs a run id');
  const conn = await ctx.connection(flags);
  runId = await resolveId(conn, 'run', runId);
  const { cancelRun } = await request<{ cancelRun: { id: string; status: string } }>(
    conn,
    `mutation Cancel($id: ID!) { cancelRun(id: $id) { id status } }`,
    { id: runId },
  );
  if (!cancelRun) throw new CliError('cancel returned no run');
  if (flags.json) return ctx.io.out(JSON.stringify(cancelRun));
  ctx.io.out(`Run ${cancelRun.id}: ${cancelRun.status.toLowerCase()}`);
}

/** 1536 → "1.5 KiB": what a deletion frees. */
function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

type RunStorage = { checkpoints: number; sampleGrids: number; objects: number; bytes: number };
const describeStorage = (s: RunStorage) =>
  `${s.checkpoints} checkpoint${s.checkpoints === 1 ? '' : 's'}, ${s.sampleGrids} sample grid${s.sampleGrids === 1 ? '' : 's'}, ` +
  `${s.objects} object${s.objects === 1 ? '' : 's'}, ${bytes(s.bytes)}`;

/**
 * Deletes a finished run and everything it stored. Without --yes it only says what would be freed (and what blocks
 * the delete), so a mistyped id costs nothing.
 */
export async function runDelete(ctx: CommandContext, runId: string | undefined, flags: Flags): Promise<void> {
  if (!runId) throw new UsageError('run delete needs a run id');
  const conn = await ctx.connection(flags);
  runId = await resolveId(conn, 'run', runId);
  if (flags.yes !== true) {
    const { run } = await request<{
      run: {
        name: string;
        status: string;
        storage: RunStorage;
        publishedVersions: { modelName: string; versionNumber: number }[];
      };
    }>(
      conn,
      `query RunStorage($id: ID!) { run(id: $id) { name status storage { checkpoints sampleGrids objects bytes }
        publishedVersions { modelName versionNumber } } }`,
      { id: runId },
    );
    ctx.io.out(`Run ${run.name} (${run.status.toLowerCase()}) keeps ${describeStorage(run.storage)}.`);
    if (run.publishedVersions.length > 0) {
      const list = run.publishedVersions.map((v) => `${v.modelName} v${v.versionNumber}`).join(', ');
      ctx.io.out(`It cannot be deleted while model versions published from it exist: ${list}.`);
    }
    throw new CliError(`nothing deleted: add --yes to delete run ${runId} and free that`);
  }
  const { deleteRun } = await request<{ deleteRun: RunStorage }>(
    conn,
    `mutation DeleteRun($id: ID!) { deleteRun(id: $id) { checkpoints sampleGrids objects bytes } }`,
    { id: runId },
  );
  ctx.io.out(`Deleted run ${runId}: freed ${describeStorage(deleteRun)}`);
}
