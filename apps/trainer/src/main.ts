/**
 * The training process: one run attempt per process, a client of the hub (never of the database).
 * Started by an executor with DAPPLE_HUB_URL, DAPPLE_RUN_ID and DAPPLE_RUN_TOKEN in its environment.
 * Exit code 0 after reporting succeeded/stopped to the hub, 1 after a failure.
 */
import { TrainerClient } from '@dapple/contracts/trainer-client';
import { loadBackendEnv, loadTrainerEnv } from './env.ts';
import { withRetry } from './hub.ts';
import { selectBackend } from '@dapple/models';
import { describeCompute, StopSignal, train } from './train.ts';

const log = (msg: string) => process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
const logError = (msg: string) => process.stderr.write(`${new Date().toISOString()} ${msg}\n`);

/**
 * `--check-gpu`: which backend and GPU a trainer would use here, then exit (0 on a GPU backend, 2 otherwise).
 * Needs no hub: for `docker run --gpus all dapple/trainer --check-gpu` and README's GPU check.
 */
async function checkGpu(): Promise<number> {
  const env = loadBackendEnv();
  const report = await selectBackend({
    ...(env.backend ? { prefer: env.backend } : {}),
    ...(env.webgpuAdapter ? { webgpuAdapter: env.webgpuAdapter } : {}),
  });
  log(`compute: ${describeCompute(report)}`);
  for (const t of report.tried) log(`  ${t.ok ? 'ok  ' : 'skip'} ${t.name}: ${t.reason}`);
  return report.backend === 'webgpu' || report.backend === 'tensorflow-gpu' ? 0 : 2;
}

async function main(): Promise<number> {
  if (process.argv.includes('--check-gpu')) return checkGpu();
  const env = loadTrainerEnv();
  const client = new TrainerClient({ hubUrl: env.hubUrl, runToken: env.runToken });
  const stop = new StopSignal();
  // SIGTERM (cancel, or the executor stopping us): finish the current step, checkpoint, exit 0.
  process.on('SIGTERM', () => stop.request('received SIGTERM'));
  process.on('SIGINT', () => stop.request('received SIGINT'));
  log(`dapple trainer for run ${env.runId} (pid ${process.pid}), hub ${env.hubUrl}`);
  let step = 0;
  let reporter: Awaited<ReturnType<typeof train>>['reporter'] | undefined;
  try {
    const result = await train(env, client, stop, log);
    reporter = result.reporter;
    step = result.step;
    await reporter.stop();
    if (reporter.stopReason === 'revoked') return 0;
    await withRetry('reporting the end of the run', () => client.finish({ outcome: result.outcome, step }), log);
    log(result.outcome === 'succeeded' ? `finished: ${step} steps` : `stopped at step ${step}`);
    return 0;
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    logError(`training failed: ${message}`);
    await reporter?.stop().catch(() => {});
    await client
      .finish({ outcome: 'failed', step, error: (err as Error).message?.slice(0, 4000) ?? String(err) })
      .catch((e) => logError(`could not report the failure: ${(e as Error).message}`));
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    logError(`trainer crashed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
