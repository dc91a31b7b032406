import { CliError, UsageError } from './errors.ts';
import { request, type Connection } from './graphql.ts';

/** The kinds of ids the CLI takes in short form. */
export type IdKind = 'run' | 'dataset' | 'dataset version' | 'model' | 'model version';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Shorter prefixes match too much to be worth a lookup. */
const MIN_PREFIX = 4;
/** How many of each team's runs a prefix is matched against (the newest). */
const RUNS_SEARCHED = 100; // the API caps a page at 100

/**
 * A full id as given, or the one id of the caller's teams that starts with `value` (as `git` takes short
 * hashes). Refused with the candidates when several match, or when none does.
 */
export async function resolveId(conn: Connection, kind: IdKind, value: string): Promise<string> {
  const given = value.trim().toLowerCase();
  if (UUID.test(given)) return given;
  if (!/^[0-9a-f-]+$/.test(given))
    throw new UsageError(`"${value}" is not a ${kind} id (ids look like 3f2a9c1e-…; a unique prefix works)`);
  if (given.length < MIN_PREFIX)
    throw new UsageError(`"${value}": give at least ${MIN_PREFIX} characters of the ${kind} id`);
  const candidates = await idsOf(conn, kind);
  const matches = [...new Set(candidates.filter((c) => c.id.startsWith(given)))];
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length === 0)
    throw new CliError(`no ${kind} of your teams has an id starting with "${value}"`, 'NOT_FOUND');
  throw new UsageError(
    `"${value}" matches ${matches.length} ${kind}s: ${matches
      .slice(0, 5)
      .map((m) => `${m.id} (${m.label})`)
      .join(', ')}; give more characters`,
  );
}

async function teamIds(conn: Connection): Promise<string[]> {
  const { me } = await request<{ me: { teams: { id: string }[] } | null }>(conn, `{ me { teams { id } } }`);
  return me?.teams.map((t) => t.id) ?? [];
}

async function idsOf(conn: Connection, kind: IdKind): Promise<{ id: string; label: string }[]> {
  const out: { id: string; label: string }[] = [];
  for (const teamId of await teamIds(conn)) {
    if (kind === 'run') {
      const { runs } = await request<{ runs: { nodes: { id: string; name: string }[] } }>(
        conn,
        `query ($teamId: ID!, $first: Int) { runs(teamId: $teamId, first: $first) { nodes { id name } } }`,
        { teamId, first: RUNS_SEARCHED },
      );
      out.push(...runs.nodes.map((r) => ({ id: r.id, label: r.name })));
    } else if (kind === 'dataset' || kind === 'dataset version') {
      const { datasets } = await request<{
        datasets: { id: string; name: string; versions: { id: string; number: number }[] }[];
      }>(conn, `query ($teamId: ID!) { datasets(teamId: $teamId) { id name versions { id number } } }`, { teamId });
      for (const d of datasets) {
        if (kind === 'dataset') out.push({ id: d.id, label: d.name });
        else out.push(...d.versions.map((v) => ({ id: v.id, label: `${d.name} v${v.number}` })));
      }
    } else {
      const { models } = await request<{
        models: { id: string; name: string; versions: { id: string; number: number }[] }[];
      }>(
        conn,
        `query ($teamId: ID!) { models(teamId: $teamId, includeShared: false) { id name versions { id number } } }`,
        { teamId },
      );
      for (const m of models) {
        if (kind === 'model') out.push({ id: m.id, label: m.name });
        else out.push(...m.versions.map((v) => ({ id: v.id, label: `${m.name} v${v.number}` })));
      }
    }
  }
  return out;
}

/**
 * A model version as a person names it: its id (or a unique prefix), or `<model>@<alias>` / `<model>@<number>`
 * (`faces@latest`, `faces@best`, `faces@3`, `faces@v3`), where <model> is the model's name in one of the caller's
 * teams or its id (prefix).
 */
export async function resolveModelVersion(conn: Connection, ref: string): Promise<string> {
  const at = ref.lastIndexOf('@');
  if (at < 0) return resolveId(conn, 'model version', ref);
  const modelRef = ref.slice(0, at).trim();
  const which = ref.slice(at + 1).trim();
  if (!modelRef || !which)
    throw new UsageError(`"${ref}": write <model>@<alias or number>, e.g. faces@latest or faces@3`);
  const models = await idsOf(conn, 'model');
  const byName = models.filter((m) => m.label === modelRef);
  let modelId: string;
  if (byName.length === 1) modelId = byName[0]!.id;
  else if (byName.length > 1)
    throw new UsageError(
      `"${modelRef}" names ${byName.length} models (${byName.map((m) => m.id).join(', ')}); use the model id`,
    );
  else if (/^[0-9a-f-]+$/i.test(modelRef)) modelId = await resolveId(conn, 'model', modelRef);
  else throw new CliError(`no model named "${modelRef}" in your teams`, 'NOT_FOUND');
  const number = /^v?(\d+)$/i.exec(which);
  const { model } = await request<{ model: { name: string; version: { id: string } | null } }>(
    conn,
    `query ($id: ID!, $number: Int, $alias: String) { model(id: $id) { name version(number: $number, alias: $alias) { id } } }`,
    number ? { id: modelId, number: Number(number[1]) } : { id: modelId, alias: which },
  );
  if (!model.version)
    throw new CliError(
      `model "${model.name}" has no ${number ? `version ${number[1]}` : `alias "${which}"`}`,
      'NOT_FOUND',
    );
  return model.version.id;
}
