import type { CommandContext } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { flagError } from '../flag-error.ts';
import { cancelOnInterrupt, followJob } from '../follow.ts';
import { floatFlag, intFlag, samplerFlag, str, type Flags } from '../flag-values.ts';
import { request } from '../graphql.ts';
import { resolveId, resolveModelVersion } from '../resolve-id.ts';

export const evaluateHelp = `dapple model evaluate <modelVersion> --dataset-version <id> [--samples 100] [--extractor pretrained|offline|inception]
               [--sampler dpmpp-2m-sde] [--steps 50] [--eta 0] [--guidance 3] [--seed 0] [--json]
  Generates --samples images and measures them against as many of the dataset version's: KID and FID, and on a
  labelled dataset how many samples its classifier reads as their class. Waits, with progress on stderr. The same
  settings give the same numbers; compare only evaluations with the same comparable key (docs/evaluation.md): the
  defaults are the model page's, so an evaluation from here and one from the page compare.`;

const EXTRACTORS = ['pretrained', 'offline', 'inception'];
/** The model page's default sample count (EvaluateForm), so the two make comparable evaluations by default. */
const DEFAULT_SAMPLES = 100;
/** evaluateModel input fields the hub may name in BAD_USER_INPUT, and the flag a user gave them with. */
const FLAG_OF: Record<string, string> = {
  numSamples: 'samples',
  datasetVersionId: 'dataset-version',
  extractor: 'extractor',
  sampler: 'sampler',
  steps: 'steps',
  eta: 'eta',
  guidance: 'guidance',
  seed: 'seed',
  modelVersionId: '<modelVersion>',
};
const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

interface MeanStd {
  mean: number;
  std: number;
}
interface Evaluation {
  id: string;
  status: string;
  phase: 'CLASSIFIER' | 'GENERATING' | 'MEASURING' | null;
  phases: { phase: string; seconds: number }[];
  error: string | null;
  queuePosition: number | null;
  numSamples: number;
  samplesDone: number;
  extractor: string;
  comparableKey: string;
  guidance: number | null;
  kid: MeanStd | null;
  fid: number | null;
  inceptionScore: MeanStd | null;
  sampleAccuracy: { accuracy: number; chance: number; perClass: { name: string; accuracy: number | null }[] } | null;
}
const FIELDS = `id status phase phases { phase seconds } error queuePosition numSamples samplesDone extractor comparableKey guidance
  kid { mean std } fid inceptionScore { mean std } sampleAccuracy { accuracy chance perClass { name accuracy } }`;

/** evaluateModel from the CLI: queues one evaluation, follows it to the end, prints its numbers. */
export async function modelEvaluate(ctx: CommandContext, ref: string | undefined, flags: Flags): Promise<void> {
  if (!ref) throw new UsageError('model evaluate needs a model version (an id, or <model>@<alias>, e.g. faces@latest)');
  const datasetArg = str(flags['dataset-version']);
  if (!datasetArg) throw new UsageError('model evaluate needs --dataset-version <id> (the images to compare with)');
  const extractor = str(flags.extractor)?.toLowerCase();
  if (extractor !== undefined && !EXTRACTORS.includes(extractor))
    throw new UsageError(`--extractor: "${String(flags.extractor)}" is not one of ${EXTRACTORS.join(', ')}`);
  const input: Record<string, unknown> = {
    numSamples: intFlag(flags, 'samples', 10, 10_000) ?? DEFAULT_SAMPLES,
    extractor: extractor?.toUpperCase(),
    sampler: samplerFlag(flags),
    steps: intFlag(flags, 'steps', 1, 1000),
    eta: floatFlag(flags, 'eta'),
    guidance: floatFlag(flags, 'guidance'),
    seed: intFlag(flags, 'seed', 0, 2 ** 31 - 1),
  };
  // Flags not given stay undefined: JSON leaves them out, and the hub applies its defaults (the model page's).
  const conn = await ctx.connection(flags);
  const modelVersionId = await resolveModelVersion(conn, ref);
  const datasetVersionId = await resolveId(conn, 'dataset version', datasetArg);
  const started = Date.now();
  const { evaluateModel } = await request<{ evaluateModel: Evaluation }>(
    conn,
    `mutation ($input: EvaluateModelInput!) { evaluateModel(input: $input) { ${FIELDS} } }`,
    { input: { modelVersionId, datasetVersionId, ...input } },
  ).catch((err: unknown) => {
    throw flagError(err, FLAG_OF);
  });
  const stopListening = cancelOnInterrupt(() =>
    request(conn, `mutation ($id: ID!) { cancelEvaluation(id: $id) { id } }`, { id: evaluateModel.id }),
  );
  const done = await followJob(conn, evaluateModel, {
    query: `query ($id: ID!) { evaluation(id: $id) { ${FIELDS} } }`,
    finished: FINISHED,
    progressKey: (e) => `${e.status}|${e.phase}|${e.queuePosition}|${e.samplesDone}`,
    onChange: progressLine(flags.json ? null : process.stderr),
    intervalMs: 1000,
  }).finally(stopListening);
  if (done.status !== 'SUCCEEDED')
    throw new CliError(
      `evaluation ${done.id} ${done.status.toLowerCase()}${done.error ? `: ${done.error}` : ''}`,
      done.status,
    );
  const seconds = (Date.now() - started) / 1000;
  if (flags.json) return ctx.io.out(JSON.stringify({ modelVersionId, datasetVersionId, seconds, ...done }));
  // Where the time went, e.g. "(classifier 3.1 s, generating 40.2 s, measuring 5.0 s)".
  const spans = done.phases.map((p) => `${p.phase.toLowerCase()} ${p.seconds.toFixed(1)} s`).join(', ');
  ctx.io.out(
    `${summary(done)}\nevaluation ${done.id} in ${seconds.toFixed(1)} s${spans ? ` (${spans})` : ''} · ${done.comparableKey}`,
  );
}

/** One line of the numbers: KID ± std, FID, IS where the extractor has a class head, accuracy of samples. */
function summary(e: Evaluation): string {
  const parts: string[] = [];
  if (e.kid) parts.push(`KID ${e.kid.mean.toFixed(4)} ± ${e.kid.std.toFixed(4)}`);
  if (e.fid !== null) parts.push(`FID ${e.fid.toFixed(2)}`);
  if (e.inceptionScore) parts.push(`IS ${e.inceptionScore.mean.toFixed(2)} ± ${e.inceptionScore.std.toFixed(2)}`);
  const a = e.sampleAccuracy;
  if (a) {
    const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
    const perClass = a.perClass.map((c) => `${c.name} ${c.accuracy === null ? '–' : pct(c.accuracy)}`).join(', ');
    parts.push(`accuracy of samples ${pct(a.accuracy)} (chance ${pct(a.chance)}; ${perClass})`);
  }
  const what = `${e.numSamples} samples${e.guidance !== null ? `, guidance ${e.guidance}` : ''}`;
  return `${parts.join(' · ')} (${what})`;
}

const RUNNING_PHASE = {
  STARTING: 'starting (loading the model and the feature extractor)',
  CLASSIFIER: 'preparing the dataset classifier',
  GENERATING: 'sampling',
  MEASURING: 'measuring the real and generated images',
} as const;

/** Progress on stderr: redrawn in place on a terminal, else one line per phase (queued, sampling, measuring, end). */
function progressLine(stream: NodeJS.WriteStream | null): (e: Evaluation) => void {
  if (!stream) return () => {};
  let lastPhase = '';
  return (e) => {
    const phase =
      e.status === 'QUEUED'
        ? `queued${e.queuePosition !== null ? ` (${e.queuePosition === 0 ? 'starts next' : `${e.queuePosition} ahead`})` : ''}`
        : e.status === 'RUNNING'
          ? RUNNING_PHASE[e.phase ?? 'STARTING']
          : e.status.toLowerCase();
    if (stream.isTTY) {
      const count = e.status === 'RUNNING' && e.phase === 'GENERATING' ? ` ${e.samplesDone}/${e.numSamples}` : '';
      stream.write(`\r\x1b[K${phase}${count}${FINISHED.has(e.status) ? '\n' : ''}`);
    } else if (phase !== lastPhase) {
      stream.write(`${phase}\n`);
    }
    lastPhase = phase;
  };
}
