import type { CommandContext } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { str, type Flags } from '../flag-values.ts';
import { table } from '../format.ts';
import { request } from '../graphql.ts';
import { resolveId } from '../resolve-id.ts';
import { teamId } from './team.ts';

export const modelHelp = `dapple model list [--team <slug>] [--json]
  The team's models, newest version first, with the ids \`samples\`, \`model evaluate\` and \`run start\` take.
dapple model publish <runId> (--name <model> | --model <modelId>) [--step N] [--notes text] [--precision float16|float32]
  Publishes the run's checkpoint at --step (default: its latest) as the next version of the model (created when
  --name names none yet); prints the model version id that \`dapple samples\` and \`run start --from-model-version\` take.`;

/** publishModel from the CLI: the step defaults to the run's newest checkpoint. */
export async function modelPublish(ctx: CommandContext, runArg: string | undefined, flags: Flags): Promise<void> {
  if (!runArg) throw new UsageError('model publish needs a run id');
  const name = str(flags.name);
  const modelArg = str(flags.model);
  if (!name === !modelArg) throw new UsageError('model publish needs exactly one of --name <model> or --model <id>');
  const stepArg = str(flags.step);
  if (stepArg !== undefined && !/^\d+$/.test(stepArg))
    throw new UsageError(`--step: "${stepArg}" is not a whole number`);
  const precision = str(flags.precision)?.toLowerCase();
  if (precision !== undefined && precision !== 'float16' && precision !== 'float32')
    throw new UsageError(`--precision: "${String(flags.precision)}" is not float16 or float32`);
  const conn = await ctx.connection(flags);
  const runId = await resolveId(conn, 'run', runArg);
  const modelId = modelArg ? await resolveId(conn, 'model', modelArg) : undefined;
  let step = stepArg !== undefined ? Number(stepArg) : undefined;
  if (step === undefined) {
    const { run } = await request<{ run: { name: string; checkpoints: { step: number }[] } }>(
      conn,
      `query ($id: ID!) { run(id: $id) { name checkpoints { step } } }`,
      { id: runId },
    );
    if (run.checkpoints.length === 0)
      throw new CliError(`run ${run.name} (${runId}) has no checkpoint yet: nothing to publish`, 'NO_CHECKPOINT');
    step = Math.max(...run.checkpoints.map((c) => c.step));
  }
  const { publishModel } = await request<{
    publishModel: { model: { id: string; name: string }; version: { id: string; number: number; step: number } };
  }>(
    conn,
    `mutation ($input: PublishModelInput!) { publishModel(input: $input) { model { id name } version { id number step } } }`,
    {
      input: {
        runId,
        step,
        ...(modelId ? { modelId } : { modelName: name }),
        ...(str(flags.notes) !== undefined && { notes: str(flags.notes) }),
        ...(precision && { precision: precision.toUpperCase() }),
      },
    },
  );
  if (flags.json) return ctx.io.out(JSON.stringify(publishModel));
  const { model, version } = publishModel;
  ctx.io.out(
    `Published run ${runId} at step ${version.step} as "${model.name}" v${version.number}: model version ${version.id} (model ${model.id})`,
  );
}

/** The team's models, each with its newest version and aliases (the model page's list). */
export async function modelList(ctx: CommandContext, flags: Flags): Promise<void> {
  const conn = await ctx.connection(flags);
  const { models } = await request<{
    models: {
      id: string;
      name: string;
      updatedAt: string;
      aliases: { name: string; versionId: string }[];
      versions: { id: string; number: number; step: number; architecture: string }[];
    }[];
  }>(
    conn,
    `query ($teamId: ID!) { models(teamId: $teamId) { id name updatedAt aliases { name versionId } versions { id number step architecture } } }`,
    { teamId: await teamId(conn, str(flags.team)) },
  );
  if (flags.json) return ctx.io.out(JSON.stringify(models));
  if (models.length === 0)
    return ctx.io.out("No models yet: publish a run's checkpoint with `dapple model publish <runId> --name <model>`.");
  ctx.io.out(
    table(
      ['ID', 'NAME', 'VERSIONS', 'LATEST', 'LATEST VERSION ID', 'ALIASES', 'UPDATED'],
      models.map((m) => {
        const latest = m.versions[0]; // the API lists versions newest first
        const aliases = m.aliases.map(
          (a) => `${a.name}→v${m.versions.find((v) => v.id === a.versionId)?.number ?? '?'}`,
        );
        return [
          m.id,
          m.name,
          String(m.versions.length),
          latest ? `v${latest.number} ${latest.architecture.toLowerCase()} step ${latest.step}` : '-',
          latest?.id ?? '-',
          aliases.join(' ') || '-',
          m.updatedAt.slice(0, 19).replace('T', ' '),
        ];
      }),
    ),
  );
}
