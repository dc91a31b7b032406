import { basename, resolve } from 'node:path';
import type { CommandContext } from '../context.ts';
import { UsageError } from '../errors.ts';
import { table } from '../format.ts';
import { request, type Connection } from '../graphql.ts';
import { resolveId } from '../resolve-id.ts';
import { collectSources, uploadSources, type UploadInto, type UploadProgress } from '../upload.ts';
import { teamId } from './team.ts';

type Flags = Record<string, string | boolean | string[] | undefined>;
const str = (v: Flags[string]) => (typeof v === 'string' ? v : undefined);

export const datasetHelp = `dapple dataset upload <folder|archive.zip> [--name <name>] [--team <slug>] [--resolution 32] [--channels 3] [--wait]
dapple dataset upload <folder|archive.zip> --dataset <id> [--wait]   (a new version of an existing dataset)
dapple dataset list [--team <slug>]
  Sub-folders become class labels. Files go up packed in a few large requests, with a progress bar on stderr;
  --wait waits until the version is prepared. Prints the dataset version id that \`run start --dataset-version\` takes.`;

interface VersionRow {
  id: string;
  number: number;
  status: string;
  acceptedCount: number;
  rejectedCount: number;
  error: string | null;
}

const VERSION_FIELDS = 'id number status acceptedCount rejectedCount error';

export async function datasetUpload(ctx: CommandContext, path: string | undefined, flags: Flags): Promise<void> {
  if (!path) throw new UsageError('dataset upload needs a folder or an archive');
  const conn = await ctx.connection(flags);
  const sources = await collectSources(resolve(path));
  const target = str(flags.dataset)
    ? await existingDataset(conn, await resolveId(conn, 'dataset', str(flags.dataset)!))
    : await newDataset(
        conn,
        flags,
        str(flags.name) ?? basename(resolve(path)).replace(/\.(zip|tar|tgz|tar\.gz)$/i, ''),
      );

  const bar = progressBar(flags.json ? null : process.stderr);
  const started = Date.now();
  const uploaded = await uploadSources(conn, target.into, sources, bar.update);
  bar.done();
  const dataset = { id: uploaded.datasetId, name: target.name };
  let version: VersionRow | { id: string; number: number; status: string } = uploaded.version;
  const seconds = (Date.now() - started) / 1000;
  if (flags.wait) version = await waitForVersion(conn, version.id);
  const result = { datasetId: dataset.id, datasetName: dataset.name, files: sources.length, seconds, version };
  if (flags.json) return ctx.io.out(JSON.stringify(result));
  ctx.io.out(
    `Uploaded ${sources.length} files to dataset "${dataset.name}" (${dataset.id}) in ${seconds.toFixed(1)} s: version ${version.number} ${version.id}, ${version.status.toLowerCase()}` +
      ('acceptedCount' in version ? `, ${version.acceptedCount} images, ${version.rejectedCount} rejected` : '') +
      ('error' in version && version.error ? ` (${version.error})` : ''),
  );
}

/** Where the upload goes, and the dataset's name to print. */
interface Target {
  into: UploadInto;
  name: string;
}

async function existingDataset(conn: Connection, id: string): Promise<Target> {
  const { dataset } = await request<{ dataset: { id: string; name: string } }>(
    conn,
    `query ($id: ID!) { dataset(id: $id) { id name } }`,
    { id },
  );
  return { into: { datasetId: dataset.id }, name: dataset.name };
}

/**
 * A new dataset from the flags. createUpload creates it together with the upload, so an upload the hub refuses leaves
 * no empty dataset behind.
 */
async function newDataset(conn: Connection, flags: Flags, name: string): Promise<Target> {
  const int = (flag: string, fallback: number) => {
    const v = str(flags[flag]);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${flag}: "${v}" is not a whole number`);
    return Number(v);
  };
  const dataset = {
    teamId: await teamId(conn, str(flags.team)),
    name,
    resolution: int('resolution', 32),
    channels: int('channels', 3),
  };
  // The hub stores the name trimmed, as createDataset does.
  return { into: { dataset }, name: name.trim() };
}

async function waitForVersion(conn: Connection, id: string): Promise<VersionRow> {
  for (;;) {
    const { datasetVersion } = await request<{ datasetVersion: VersionRow }>(
      conn,
      `query ($id: ID!) { datasetVersion(id: $id) { ${VERSION_FIELDS} } }`,
      { id },
    );
    if (datasetVersion.status !== 'PREPARING') return datasetVersion;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export async function datasetList(ctx: CommandContext, flags: Flags): Promise<void> {
  const conn = await ctx.connection(flags);
  const { datasets } = await request<{
    datasets: { id: string; name: string; resolution: number; channels: number; versions: VersionRow[] }[];
  }>(
    conn,
    `query ($teamId: ID!) { datasets(teamId: $teamId) { id name resolution channels versions { ${VERSION_FIELDS} } } }`,
    { teamId: await teamId(conn, str(flags.team)) },
  );
  if (flags.json) return ctx.io.out(JSON.stringify(datasets));
  if (datasets.length === 0) return ctx.io.out('No datasets.');
  ctx.io.out(
    table(
      ['ID', 'NAME', 'SIZE', 'LATEST', 'VERSION ID', 'IMAGES'],
      datasets.map((d) => {
        const latest = d.versions[0];
        return [
          d.id,
          d.name,
          `${d.resolution}px ${d.channels === 1 ? 'gray' : 'rgb'}`,
          latest ? `v${latest.number} ${latest.status.toLowerCase()}` : '-',
          latest?.id ?? '-',
          latest ? String(latest.acceptedCount) : '-',
        ];
      }),
    ),
  );
}

/** A one-line bar redrawn in place on a terminal; nothing when not a terminal (or with --json). */
function progressBar(stream: NodeJS.WriteStream | null): { update: (p: UploadProgress) => void; done: () => void } {
  if (!stream?.isTTY) return { update: () => {}, done: () => {} };
  const started = Date.now();
  let last = 0;
  return {
    update: (p) => {
      const now = Date.now();
      if (now - last < 100 && p.bytesSent < p.bytesTotal) return;
      last = now;
      const width = 30;
      const filled = Math.round((p.bytesTotal ? p.bytesSent / p.bytesTotal : 1) * width);
      const rate = p.bytesSent / Math.max(0.001, (now - started) / 1000);
      stream.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.filesSent}/${p.filesTotal} files · ${mb(p.bytesSent)}/${mb(p.bytesTotal)} MB · ${mb(rate)} MB/s `,
      );
    },
    done: () => stream.write('\n'),
  };
}

const mb = (bytes: number) => (bytes / 1024 ** 2).toFixed(1);
