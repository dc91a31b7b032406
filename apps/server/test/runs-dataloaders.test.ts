import { checkpoints, metricKeys, sampleGrids } from '@dapple/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { ok, readyDatasetVersion, START_RUN, tinyConfig } from './runs-fixtures.ts';

// A page of runs asks each run for its checkpoints, events, metric keys and sample grids: the dataloaders
// must turn that into one query per table, whatever the number of runs. Counted at the hub's own pg pool.
let hub: TestHub;
let ann: SignedInUser;
let teamId: string;
const runIds: string[] = [];

const TABLES = ['checkpoints', 'run_events', 'metric_keys', 'sample_grids'] as const;

/** Counts the hub's queries that read each table while `fn` runs. */
async function countQueries(fn: () => Promise<void>): Promise<Record<(typeof TABLES)[number], number>> {
  const pool = hub.hub.pool;
  const counts = Object.fromEntries(TABLES.map((t) => [t, 0])) as Record<(typeof TABLES)[number], number>;
  const original = pool.query;
  pool.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string } | null)?.text ?? '');
    if (/^\s*select/i.test(text))
      for (const table of TABLES) if (new RegExp(`from "?${table}"?\\b`, 'i').test(text)) counts[table]++;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pool.query;
  try {
    await fn();
  } finally {
    pool.query = original;
  }
  return counts;
}

beforeAll(async () => {
  hub = await startTestHub({ runs: { executor: false } });
  ann = await signUpUser(hub, 'Ann');
  teamId = await createTeam(ann, 'Lab', 'loader-lab');
  const { versionId } = await readyDatasetVersion(hub, teamId, { resolution: 8, channels: 1, n: 6 });
  for (let i = 0; i < 4; i++) {
    const id = ok(
      await ann.client.request<{ startRun: { id: string } }>(START_RUN, {
        input: { datasetVersionId: versionId, name: `r${i}`, config: tinyConfig() },
      }),
    ).startRun.id;
    runIds.push(id);
    // Run i has i checkpoints, grids and metric keys, so a mixed-up batch shows.
    for (let s = 1; s <= i; s++) {
      await hub.db.insert(checkpoints).values({ runId: id, step: s * 10, objectPrefix: `x/${id}/${s}/`, sizeBytes: 1 });
      await hub.db
        .insert(sampleGrids)
        .values({ runId: id, step: s * 10, objectKey: `x/${id}/${s}.png`, seeds: [s], width: 8, height: 8 });
      await hub.db.insert(metricKeys).values({ runId: id, key: `k${s}` });
    }
  }
});
afterAll(async () => {
  await hub?.close();
});

describe('per-row fields of a list of runs', () => {
  it('read each table once for the whole page, and give each run its own rows', async () => {
    let nodes: {
      id: string;
      checkpoints: { step: number }[];
      events: { message: string }[];
      metricKeys: string[];
      sampleGrids: { step: number }[];
    }[] = [];
    const counts = await countQueries(async () => {
      nodes = ok(
        await ann.client.request<{ runs: { nodes: typeof nodes } }>(
          `query ($teamId: ID!) { runs(teamId: $teamId) { nodes {
            id checkpoints { step } events { message } metricKeys sampleGrids { step }
          } } }`,
          { teamId },
        ),
      ).runs.nodes;
    });
    expect(nodes).toHaveLength(4);
    expect(counts).toEqual({ checkpoints: 1, run_events: 1, metric_keys: 1, sample_grids: 1 });
    for (const node of nodes) {
      const i = runIds.indexOf(node.id);
      const steps = Array.from({ length: i }, (_, s) => (s + 1) * 10);
      expect(node.checkpoints.map((c) => c.step)).toEqual(steps);
      expect(node.sampleGrids.map((g) => g.step)).toEqual(steps);
      expect(node.metricKeys).toEqual(Array.from({ length: i }, (_, s) => `k${s + 1}`));
      expect(node.events.map((e) => e.message)).toEqual(['queued']);
    }
  });
});
