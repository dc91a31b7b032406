import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Pid files of `npm start`'s processes in `<DAPPLE_DATA_DIR>/run/`, so the next start finds what a crash (kill -9
 * of the supervisor, a power cut) left running. A pid is only acted on after /proc shows the process is still the
 * one we started (its command line holds the marker we wrote): pids are reused, and stopping a stranger is worse
 * than failing to start.
 */
export interface PidRecord {
  name: string;
  pid: number;
  /** A string the process's command line contains (a script path, a data directory). */
  marker: string;
  /** Signal the process group (children spawned `detached` lead their own group). */
  group: boolean;
  /** When the process started (/proc/<pid>/stat, clock ticks since boot): with the pid, it names one process. */
  startTime?: string;
}

export const runDir = (dataDir: string) => join(dataDir, 'run');
const pidFile = (dataDir: string, name: string) => join(runDir(dataDir), `${name}.pid`);

export async function writePidFile(dataDir: string, record: Omit<PidRecord, 'startTime'>): Promise<void> {
  await mkdir(runDir(dataDir), { recursive: true });
  const startTime = await processStartTime(record.pid);
  await writeFile(
    pidFile(dataDir, record.name),
    `${JSON.stringify({ ...record, ...(startTime ? { startTime } : {}) })}\n`,
  );
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command, which may hold spaces); null without /proc. */
export async function processStartTime(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

export async function removePidFile(dataDir: string, name: string): Promise<void> {
  await rm(pidFile(dataDir, name), { force: true });
}

export async function readPidFile(dataDir: string, name: string): Promise<PidRecord | null> {
  try {
    const parsed = JSON.parse(await readFile(pidFile(dataDir, name), 'utf8')) as Partial<PidRecord>;
    if (typeof parsed.pid !== 'number' || typeof parsed.marker !== 'string') return null;
    return {
      name,
      pid: parsed.pid,
      marker: parsed.marker,
      group: parsed.group === true,
      ...(typeof parsed.startTime === 'string' ? { startTime: parsed.startTime } : {}),
    };
  } catch {
    return null;
  }
}

/** The process's command line (NUL-separated arguments joined by spaces), or null when it is gone. */
export async function commandLine(pid: number): Promise<string | null> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
  } catch {
    return null;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when the recorded process still runs: same pid and start time (processes rename themselves, e.g. next's
 * "next-server (v16…)", so the start time is the check that holds), else — records without one — its command line
 * contains the marker.
 */
export async function isRecordedProcess(record: PidRecord): Promise<boolean> {
  if (!isAlive(record.pid)) return false;
  if (record.startTime !== undefined) return (await processStartTime(record.pid)) === record.startTime;
  return isOurs(record.pid, record.marker);
}

/** True when `pid` runs and its command line contains `marker`. */
export async function isOurs(pid: number, marker: string): Promise<boolean> {
  if (!isAlive(pid)) return false;
  const cmd = await commandLine(pid);
  // Without /proc (not Linux) the command line cannot be checked: a live pid from our own file is trusted.
  if (cmd === null) return isAlive(pid);
  return cmd.includes(marker);
}

/** SIGTERM (the group when `group`), then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(
  pid: number,
  opts: { group?: boolean; signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<'stopped' | 'killed'> {
  const send = (signal: NodeJS.Signals) => {
    try {
      process.kill(opts.group ? -pid : pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  };
  send(opts.signal ?? 'SIGTERM');
  const deadline = Date.now() + (opts.graceMs ?? 15_000);
  while ((await isRunning(pid)) && Date.now() < deadline) await sleep(100);
  if (!(await isRunning(pid))) {
    if (opts.group) send('SIGKILL'); // workers left in the group
    return 'stopped';
  }
  send('SIGKILL');
  while (await isRunning(pid)) await sleep(50);
  return 'killed';
}

/** Alive and not a zombie (an exited process its parent has not reaped yet still answers kill(pid, 0)). */
async function isRunning(pid: number): Promise<boolean> {
  if (!isAlive(pid)) return false;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return !existsSync('/proc/self');
  }
}

/** Postgres' own lock file: the postmaster's pid is its first line. */
export async function postmasterPid(pgDataDir: string): Promise<number | null> {
  try {
    const pid = Number((await readFile(join(pgDataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
