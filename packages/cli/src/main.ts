import { parseArgs, type ParseArgsConfig } from 'node:util';
import { login, loginHelp } from './commands/login.ts';
import { datasetHelp, datasetList, datasetUpload } from './commands/dataset.ts';
import { metrics, metricsHelp } from './commands/metrics.ts';
import { evaluateHelp, modelEvaluate } from './commands/evaluate.ts';
import { modelHelp, modelList, modelPublish } from './commands/model.ts';
import { samples, samplesHelp } from './commands/samples.ts';
import { runCancel, runDelete, runHelp, runList, runLogs, runStart } from './commands/run.ts';
import { whoami } from './commands/whoami.ts';
import { createContext, type Io } from './context.ts';
import { readCliEnv } from './env.ts';
import { CliError, UsageError } from './errors.ts';

export const HELP = `dapple — train diffusion models on a Dapple hub from the command line

${loginHelp}
dapple whoami [--json]
${datasetHelp}
${runHelp}
${metricsHelp}
${modelHelp}
${evaluateHelp}
${samplesHelp}

Every command takes --url <hub> and --token dpl_... (else DAPPLE_URL / DAPPLE_TOKEN, else the login config),
and --json where it prints data. Exit code 1 on any error, with the hub's error code in the message.`;

type Options = NonNullable<ParseArgsConfig['options']>;
const GLOBAL: Options = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
const COMMANDS: Record<string, Options> = {
  login: {},
  whoami: {},
  'run start': {
    'dataset-version': { type: 'string' },
    preset: { type: 'string' },
    name: { type: 'string' },
    seed: { type: 'string' },
    priority: { type: 'string' },
    set: { type: 'string', multiple: true },
    'from-model-version': { type: 'string' },
  },
  'dataset upload': {
    name: { type: 'string' },
    dataset: { type: 'string' },
    team: { type: 'string' },
    resolution: { type: 'string' },
    channels: { type: 'string' },
    wait: { type: 'boolean' },
  },
  'dataset list': { team: { type: 'string' } },
  'run list': { team: { type: 'string' }, status: { type: 'string' }, first: { type: 'string' } },
  'run logs': { tail: { type: 'string' }, follow: { type: 'boolean', short: 'f' }, 'interval-ms': { type: 'string' } },
  'run cancel': {},
  'run delete': { yes: { type: 'boolean', short: 'y' } },
  'model list': { team: { type: 'string' } },
  'model evaluate': {
    'dataset-version': { type: 'string' },
    samples: { type: 'string' },
    extractor: { type: 'string' },
    sampler: { type: 'string' },
    steps: { type: 'string' },
    eta: { type: 'string' },
    guidance: { type: 'string' },
    seed: { type: 'string' },
  },
  'model publish': {
    name: { type: 'string' },
    model: { type: 'string' },
    step: { type: 'string' },
    notes: { type: 'string' },
    precision: { type: 'string' },
  },
  samples: {
    count: { type: 'string', short: 'n' },
    sampler: { type: 'string' },
    steps: { type: 'string' },
    eta: { type: 'string' },
    seed: { type: 'string' },
    label: { type: 'string', multiple: true },
    guidance: { type: 'string' },
    temperature: { type: 'string' },
    out: { type: 'string', short: 'o' },
    grid: { type: 'boolean' },
    'grid-only': { type: 'boolean' },
  },
  metrics: {
    keys: { type: 'string' },
    'max-points': { type: 'string' },
    'from-step': { type: 'string' },
    'to-step': { type: 'string' },
    table: { type: 'boolean' },
  },
};

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

/** Runs one CLI invocation; returns the exit code (0 ok, 1 error). Never calls process.exit itself. */
export async function main(argv: string[], io: Io, envSource: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const [first, second] = argv;
    if (!first || first === '--help' || first === '-h' || first === 'help') {
      io.out(HELP);
      return 0;
    }
    const grouped = first === 'run' || first === 'dataset' || first === 'model';
    const name = grouped ? `${first} ${second ?? ''}`.trim() : first;
    const options = COMMANDS[name];
    if (!options) {
      throw new UsageError(
        first === 'run'
          ? `unknown run command "${second ?? ''}" (start | list | logs | cancel | delete)`
          : first === 'dataset'
            ? `unknown dataset command "${second ?? ''}" (upload | list)`
            : first === 'model'
              ? `unknown model command "${second ?? ''}" (list | publish | evaluate)`
              : `unknown command "${first}"`,
      );
    }
    let parsed;
    try {
      parsed = parseArgs({
        args: argv.slice(name.split(' ').length),
        options: { ...GLOBAL, ...options },
        allowPositionals: true,
        strict: true,
      });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values: flags, positionals } = parsed;
    if (flags.help) {
      io.out(HELP);
      return 0;
    }
    const ctx = createContext(readCliEnv(envSource), io);
    const f = flags as Record<string, string | boolean | string[] | undefined>;
    const g = { url: flags.url as string | undefined, token: flags.token as string | undefined };
    switch (name) {
      case 'login':
        await login(ctx, g, readStdin);
        break;
      case 'whoami':
        await whoami(ctx, { ...g, json: Boolean(flags.json) });
        break;
      case 'run start':
        await runStart(ctx, f);
        break;
      case 'run list':
        await runList(ctx, f);
        break;
      case 'dataset upload':
        await datasetUpload(ctx, positionals[0], f);
        break;
      case 'dataset list':
        await datasetList(ctx, f);
        break;
      case 'run logs':
        await runLogs(ctx, positionals[0], f);
        break;
      case 'run cancel':
        await runCancel(ctx, positionals[0], f);
        break;
      case 'run delete':
        await runDelete(ctx, positionals[0], f);
        break;
      case 'metrics':
        await metrics(ctx, positionals[0], f);
        break;
      case 'model list':
        await modelList(ctx, f);
        break;
      case 'model publish':
        await modelPublish(ctx, positionals[0], f);
        break;
      case 'model evaluate':
        await modelEvaluate(ctx, positionals[0], f);
        break;
      case 'samples':
        await samples(ctx, positionals[0], f);
        break;
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) io.err(`error: ${err.message}\nRun \`dapple --help\` for usage.`);
    else if (err instanceof CliError) io.err(`error: ${err.message}`);
    else io.err(`error: ${(err as Error).message ?? String(err)}`);
    return 1;
  }
}
