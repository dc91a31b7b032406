import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  isAlive,
  isOurs,
  isRecordedProcess,
  postmasterPid,
  readPidFile,
  removePidFile,
  stopProcess,
  commandLine,
} from './processes.ts';

export const SUPERVISOR_MARKER = 'cli/start.ts';

/**
 * Stops what an earlier `npm start` that died (kill -9, a crash, a power cut) left running, so this one can take
 * the ports and the database: the dashboard, the hub, then the embedded Postgres (fast shutdown; it replays its
 * WAL on the next start). Refuses when that earlier start is still alive. Returns what it did, one line each.
 */
export async function recoverFromCrash(opts: { dataDir: string; pgDataDir?: string }): Promise<string[]> {
  const done: string[] = [];
  const supervisor = await readPidFile(opts.dataDir, 'supervisor');
  if (supervisor && supervisor.pid !== process.pid && (await isRecordedProcess(supervisor))) {
    throw new Error(
      `Dapple is already running from ${opts.dataDir} (npm start, pid ${supervisor.pid}): stop it first (Ctrl-C in its terminal, or kill ${supervisor.pid})`,
    );
  }
  if (supervisor) await removePidFile(opts.dataDir, 'supervisor');
  for (const name of ['dashboard', 'hub']) {
    const record = await readPidFile(opts.dataDir, name);
    if (!record) continue;
    if (await isRecordedProcess(record)) {
      const how = await stopProcess(record.pid, { group: record.group, graceMs: name === 'hub' ? 60_000 : 10_000 });
      done.push(`${how} the ${name} an earlier start left running (pid ${record.pid})`);
    }
    await removePidFile(opts.dataDir, name);
  }
  if (opts.pgDataDir) {
    const pid = await postmasterPid(opts.pgDataDir);
    if (pid !== null) {
      if (await isOurs(pid, opts.pgDataDir)) {
        // SIGINT: Postgres' fast shutdown (rolls back open transactions, checkpoints, exits).
        const how = await stopProcess(pid, { signal: 'SIGINT', graceMs: 60_000 });
        done.push(`${how} the embedded Postgres an earlier start left running (pid ${pid})`);
      } else if (!isAlive(pid) || !(await commandLine(pid))?.includes('postgres')) {
        // The postmaster died with its lock file in place; Postgres would refuse to start if that pid now belongs
        // to another process. Its WAL brings the data back to the last commit on start.
        await rm(join(opts.pgDataDir, 'postmaster.pid'), { force: true });
        done.push(`removed the lock file of an embedded Postgres that died (pid ${pid}); it recovers from its WAL`);
      }
    }
  }
  return done;
}
