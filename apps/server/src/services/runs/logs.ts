import { open, readFile, writeFile } from 'node:fs/promises';
import { desc, eq, sql } from 'drizzle-orm';
import { CPU_BANNER } from '@dapple/models/cpu-banner';
import { runLogs, type LogStream, type RunLog } from '@dapple/db';
import type { Logger } from 'pino';
import { attemptLogFiles } from '../../executors/local.ts';
import { PollingLogFollower, type Followed } from './log-follower.ts';
import type { ServiceDeps } from '../types.ts';

/** Lines kept per run; older ones are deleted as new ones arrive. */
export const MAX_LOG_LINES_PER_RUN = 10_000;
export const MAX_LOG_LINE_CHARS = 4000;

/** TF.js' cpu-backend advice and the rules of ='s around it: noise in a run log. */
const BANNER = [CPU_BANNER, /^=+$/];
export const isBannerLine = (line: string) => BANNER.some((re) => re.test(line.trim()));

export interface LogLineInput {
  seq: number;
  stream: LogStream;
  line: string;
}

export class RunLogStore {
  private readonly writesSinceTrim = new Map<string, number>();

  constructor(private readonly deps: ServiceDeps) {}

  /** Idempotent on (run, attempt, seq): a re-read file tail inserts nothing twice. */
  async append(runId: string, attempt: number, lines: LogLineInput[]): Promise<void> {
    const kept = lines.filter((l) => !isBannerLine(l.line));
    if (kept.length === 0) return;
    for (let i = 0; i < kept.length; i += 1000) {
      await this.deps.db
        .insert(runLogs)
        .values(
          kept
            .slice(i, i + 1000)
            .map((l) => ({ runId, attempt, seq: l.seq, stream: l.stream, line: l.line.slice(0, MAX_LOG_LINE_CHARS) })),
        )
        .onConflictDoNothing();
    }
    const n = (this.writesSinceTrim.get(runId) ?? 0) + kept.length;
    if (n >= 500) {
      this.writesSinceTrim.delete(runId);
      await this.trim(runId);
    } else this.writesSinceTrim.set(runId, n);
  }

  async trim(runId: string): Promise<void> {
    await this.deps.db.execute(sql`
      DELETE FROM run_logs WHERE run_id = ${runId} AND id < (
        SELECT id FROM run_logs WHERE run_id = ${runId} ORDER BY id DESC OFFSET ${MAX_LOG_LINES_PER_RUN - 1} LIMIT 1)`);
  }

  /** The last `n` lines, oldest first. */
  async tail(runId: string, n: number): Promise<RunLog[]> {
    const rows = await this.deps.db
      .select()
      .from(runLogs)
      .where(eq(runLogs.runId, runId))
      .orderBy(desc(runLogs.id))
      .limit(Math.max(0, Math.min(n, MAX_LOG_LINES_PER_RUN)));
    return rows.reverse();
  }
}

interface FileCursor {
  offset: number;
  lines: number;
  partial: string;
}
interface WatchedFiles extends Followed {
  cursors: Record<'stdout' | 'stderr', FileCursor>;
}

/**
 * Copies a local trainer's output files into run_logs. The cursor (bytes and lines read per file) is
 * kept beside the files, so a hub that re-adopts a trainer after a restart continues where the last
 * one stopped; a line read twice has the same seq and is ignored.
 */
export class LogTailer extends PollingLogFollower<WatchedFiles> {
  constructor(
    private readonly logDir: string,
    store: RunLogStore,
    log: Logger,
    intervalMs = 500,
  ) {
    super(store, log, intervalMs);
  }

  private cursorFile = (runId: string, attempt: number) =>
    `${attemptLogFiles(this.logDir, runId, attempt).stdout}.cursor.json`;

  /** The handle is not needed: the files are named after the run and attempt. */
  protected async open(runId: string, attempt: number): Promise<WatchedFiles> {
    const fresh = (): FileCursor => ({ offset: 0, lines: 0, partial: '' });
    let cursors = { stdout: fresh(), stderr: fresh() };
    try {
      const saved = JSON.parse(await readFile(this.cursorFile(runId, attempt), 'utf8')) as typeof cursors;
      cursors = { stdout: { ...saved.stdout, partial: '' }, stderr: { ...saved.stderr, partial: '' } };
    } catch {
      // first hub to watch this attempt
    }
    return { runId, attempt, cursors, busy: Promise.resolve() };
  }

  /** Final: an unterminated last line is stored too. */
  protected async read(w: WatchedFiles, final: boolean): Promise<void> {
    const files = attemptLogFiles(this.logDir, w.runId, w.attempt);
    const out: LogLineInput[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const cursor = w.cursors[stream];
      const chunk = await readFrom(files[stream], cursor.offset);
      if (chunk.length === 0 && !(final && cursor.partial)) continue;
      cursor.offset += chunk.length;
      const text = cursor.partial + chunk.toString('utf8');
      const parts = text.split('\n');
      cursor.partial = final ? '' : parts.pop()!;
      if (final && parts.at(-1) === '') parts.pop();
      for (const line of parts) {
        // seq interleaves the two files: even = stdout line numbers, odd = stderr.
        out.push({ seq: cursor.lines * 2 + (stream === 'stderr' ? 1 : 0), stream, line: line.replace(/\r$/, '') });
        cursor.lines += 1;
      }
      // The partial line is re-read from the file by a later hub: step the offset back over it.
    }
    if (out.length === 0) return;
    await this.store.append(w.runId, w.attempt, out);
    const saved = Object.fromEntries(
      (['stdout', 'stderr'] as const).map((s) => [
        s,
        { offset: w.cursors[s].offset - Buffer.byteLength(w.cursors[s].partial), lines: w.cursors[s].lines },
      ]),
    );
    await writeFile(this.cursorFile(w.runId, w.attempt), JSON.stringify(saved));
  }
}

async function readFrom(path: string, offset: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const { size } = await handle.stat();
    if (size <= offset) return Buffer.alloc(0);
    const buf = Buffer.alloc(Math.min(size - offset, 4 * 1024 * 1024));
    const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
