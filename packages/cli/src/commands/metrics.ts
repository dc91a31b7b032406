import { resolveId } from '../resolve-id.ts';
import type { CommandContext } from '../context.ts';
import { UsageError } from '../errors.ts';
import { num, sparkline, table } from '../format.ts';
import { request } from '../graphql.ts';

export const metricsHelp = `dapple metrics <runId> [--keys loss,lr] [--max-points 200] [--from-step N] [--to-step N] [--table] [--json]
  Without --keys: every key the run logged. Default output: one sparkline per key with last/min/max;
  --table: one row per bucket; --json: the series as JSON.`;

interface Bucket {
  step: number;
  mean: number | null;
  min: number | null;
  max: number | null;
  last: number | null;
  lastStep: number | null;
  count: number;
  nonFinite: number;
}
interface Series {
  key: string;
  bucketWidth: number;
  points: Bucket[];
}

type Flags = Record<string, string | boolean | string[] | undefined>;

function intFlag(flags: Flags, name: string): number | undefined {
  const v = flags[name];
  if (typeof v !== 'string') return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name}: "${v}" is not a non-negative integer`);
  return Number(v);
}

export async function metrics(ctx: CommandContext, runId: string | undefined, flags: Flags): Promise<void> {
  if (!runId) throw new UsageError('metrics needs a run id');
  const conn = await ctx.connection(flags);
  runId = await resolveId(conn, 'run', runId);
  const maxPoints = intFlag(flags, 'max-points') ?? 200;
  let keys =
    typeof flags.keys === 'string'
      ? flags.keys
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean)
      : undefined;
  if (!keys?.length) {
    const { run } = await request<{ run: { metricKeys: string[] } }>(
      conn,
      `query Keys($id: ID!) { run(id: $id) { metricKeys } }`,
      { id: runId },
    );
    keys = run.metricKeys;
    if (keys.length === 0) return ctx.io.out(flags.json ? '[]' : 'No metrics yet.');
  }
  const { run } = await request<{ run: { metrics: Series[] } }>(
    conn,
    `query Metrics($id: ID!, $keys: [String!]!, $maxPoints: Int, $fromStep: Int, $toStep: Int) {
      run(id: $id) { metrics(keys: $keys, maxPoints: $maxPoints, fromStep: $fromStep, toStep: $toStep) {
        key bucketWidth points { step mean min max last lastStep count nonFinite } } } }`,
    {
      id: runId,
      keys,
      maxPoints,
      fromStep: intFlag(flags, 'from-step') ?? null,
      toStep: intFlag(flags, 'to-step') ?? null,
    },
  );
  if (flags.json) return ctx.io.out(JSON.stringify(run.metrics));
  for (const s of run.metrics) {
    if (s.points.length === 0) {
      ctx.io.out(`${s.key}: no points`);
      continue;
    }
    if (flags.table) {
      ctx.io.out(`${s.key} (bucket width ${s.bucketWidth})`);
      ctx.io.out(
        table(
          ['STEP', 'MEAN', 'MIN', 'MAX', 'LAST', 'COUNT'],
          s.points.map((b) => [
            String(b.step),
            num(b.mean),
            num(b.min),
            num(b.max),
            num(b.last),
            String(b.count + b.nonFinite),
          ]),
        ),
      );
      continue;
    }
    const lastBucket = [...s.points].reverse().find((b) => b.last !== null);
    const mins = s.points.map((b) => b.min).filter((v): v is number => v !== null);
    const maxs = s.points.map((b) => b.max).filter((v): v is number => v !== null);
    const nonFinite = s.points.reduce((n, b) => n + b.nonFinite, 0);
    const first = s.points[0]!.step;
    const last = s.points.at(-1)!;
    ctx.io.out(
      `${s.key}  steps ${first}–${last.lastStep ?? last.step}  last ${num(lastBucket?.last)}` +
        `  min ${num(mins.length ? Math.min(...mins) : null)}  max ${num(maxs.length ? Math.max(...maxs) : null)}` +
        (nonFinite ? `  non-finite ${nonFinite}` : ''),
    );
    ctx.io.out(`  ${sparkline(s.points.map((b) => b.mean))}`);
  }
}
