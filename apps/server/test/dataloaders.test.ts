import { checkpoints, evaluations, metricKeys, sampleGrids } from '@dapple/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from './support/hub.ts';
import { createTeam, signUpUser, type SignedInUser } from './helpers.ts';
import { ok, readyDatasetVersion, START_RUN, tinyConfig } from './runs-fixtures.ts';
import { publishTinyVersion } from './sampling-fixtures.ts';

// A page of runs asks each run for its checkpoints, events, metric keys and sample grids, a list of models each
// model for its versions and aliases and each version for its aliases and publisher: the dataloaders must turn
// that into one query per table, whatever the number of rows. Counted at the hub's own pg pool.
let hub: TestHub;
let ann: SignedInUser;
let teamId: string;
const modelIds: string[] = [];
/** The run each model's one version was published from. */
const publishedRunIds: string[] = [];
const runIds: string[] = [];

const TABLES = [
  'checkpoints',
  'run_events',
  'metric_keys',
  'sample_grids',
  'model_versions',
  'model_aliases',
  'users',
  'evaluations',
  'model_shares',
  'memberships',
] as const;
type Table = (typeof TABLES)[number];

/** Counts the hub's queries that read each table while `fn` runs. */
async function countQueries(fn: () => Promise<void>): Promise<Record<Table, number>> {
  const pool = hub.hub.pool;
  const counts = Object.fromEntries(TABLES.map((t) => [t, 0])) as Record<Table, number>;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, and called with the pool as `this`
  const original = pool.query;
  pool.query = function (this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : ((first as { text?: string } | null)?.text ?? '');
    if (/^\s*select/i.test(text))
      for (const table of TABLES) if (new RegExp(`from "?${table}"?(\\s|$)`, 'i').test(text)) counts[table]++;
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
  const me = ok(await ann.client.request<{ me: { id: string } }>(`{ me { id } }`)).me.id;
  for (let i = 0; i < 3; i++) {
    const { modelId, version } = await publishTinyVersion(hub, teamId, me, { name: `m${i}` });
    modelIds.push(modelId);
    publishedRunIds.push(version.runId);
    // Version i has i + 1 evaluations (numSamples 10 + i), so a mixed-up batch shows.
    for (let e = 0; e <= i; e++)
      await hub.db
        .insert(evaluations)
        .values({ modelVersionId: version.id, teamId, numSamples: 10 + i, extractor: 'offline', status: 'succeeded' });
    ok(
      await ann.client.request(
        `mutation ($m: ID!, $v: ID!, $n: String!) { setAlias(modelId: $m, name: $n, versionId: $v) { id } }`,
        {
          m: modelId,
          v: version.id,
          n: `alias-${i}`,
        },
      ),
    );
  }
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
    // The published models' runs are listed too; the four started here must each get their own rows.
    nodes = nodes.filter((n) => runIds.includes(n.id));
    expect(nodes).toHaveLength(4);
    expect(counts).toMatchObject({ checkpoints: 1, run_events: 1, metric_keys: 1, sample_grids: 1 });
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

describe('per-row fields of a list of models', () => {
  it('read versions, aliases and publishers once for the whole list', async () => {
    let nodes: {
      id: string;
      aliases: { name: string }[];
      versions: { aliases: string[]; createdBy: string | null }[];
    }[] = [];
    const counts = await countQueries(async () => {
      nodes = ok(
        await ann.client.request<{ models: typeof nodes }>(
          `query ($teamId: ID!) { models(teamId: $teamId) { id aliases { name } versions { aliases createdBy } } }`,
          { teamId },
        ),
      ).models;
    });
    expect(nodes).toHaveLength(3);
    // Aliases are read at two levels of the tree (Model.aliases, then ModelVersion.aliases once versions are
    // known): one query per level, however many models and versions.
    expect(counts).toMatchObject({ model_versions: 1, model_aliases: 2, users: 1 });
    for (const node of nodes) {
      const i = modelIds.indexOf(node.id);
      expect(node.aliases.map((a) => a.name)).toEqual([`alias-${i}`]);
      expect(node.versions).toEqual([{ aliases: [`alias-${i}`], createdBy: 'Ann' }]);
    }
  });
});

describe('the versions published from a page of runs, and their evaluations', () => {
  it('read model_versions, model shares and evaluations once for the whole page, each run its own', async () => {
    let nodes: {
      id: string;
      publishedModelVersions: { model: { name: string }; evaluations: { numSamples: number }[] }[];
    }[] = [];
    const counts = await countQueries(async () => {
      nodes = ok(
        await ann.client.request<{ runs: { nodes: typeof nodes } }>(
          `query ($teamId: ID!) { runs(teamId: $teamId) { nodes {
            id publishedModelVersions { model { name } evaluations { numSamples } }
          } } }`,
          { teamId },
        ),
      ).runs.nodes;
    });
    // What the viewer may read of the three models is one look at their shares, too.
    expect(counts).toMatchObject({ model_versions: 1, model_shares: 1, evaluations: 1 });
    for (const node of nodes) {
      const i = publishedRunIds.indexOf(node.id);
      expect(node.publishedModelVersions).toEqual(
        i < 0
          ? []
          : [{ model: { name: `m${i}` }, evaluations: Array.from({ length: i + 1 }, () => ({ numSamples: 10 + i })) }],
      );
    }
    expect(nodes.filter((n) => publishedRunIds.includes(n.id))).toHaveLength(3);
  });

  it('what the viewer may do with each of the six evaluations is one look at their team roles', async () => {
    const page = (fields: string) => async () => {
      ok(
        await ann.client.request(
          `query ($teamId: ID!) { runs(teamId: $teamId) { nodes { publishedModelVersions { evaluations { ${fields} } } } } }`,
          { teamId },
        ),
      );
    };
    const without = await countQueries(page('numSamples'));
    let allowed: { viewerCanCancel: boolean; viewerCanDelete: boolean }[] = [];
    const withPermissions = await countQueries(async () => {
      const res = ok(
        await ann.client.request<{
          runs: { nodes: { publishedModelVersions: { evaluations: typeof allowed }[] }[] };
        }>(
          `query ($teamId: ID!) { runs(teamId: $teamId) { nodes { publishedModelVersions { evaluations { viewerCanCancel viewerCanDelete } } } } }`,
          { teamId },
        ),
      );
      allowed = res.runs.nodes.flatMap((n) => n.publishedModelVersions.flatMap((v) => v.evaluations));
    });
    expect(withPermissions.memberships - without.memberships).toBe(1);
    // Ann owns the team and the rows have ended: she may delete each, and cancel none.
    expect(allowed).toHaveLength(6);
    expect(allowed.every((e) => !e.viewerCanCancel && e.viewerCanDelete)).toBe(true);
  });
});
