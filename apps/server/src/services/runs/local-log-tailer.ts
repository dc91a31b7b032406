import { open, readFile, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { attemptLogFiles } from '../../executors/local.ts';
import { PollingLogFollower, type Followed } from './log-follower.ts';
import type { LogLineInput, RunLogStore } from './logs.ts';

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

  /**
   * Final: an unterminated last line is stored too. The cursors move only once the lines are stored: when the
   * database is unreachable the same output is read again on the next tick, so none of it is lost.
   */
  protected async read(w: WatchedFiles, final: boolean): Promise<void> {
    const files = attemptLogFiles(this.logDir, w.runId, w.attempt);
    const out: LogLineInput[] = [];
    const next = { stdout: { ...w.cursors.stdout }, stderr: { ...w.cursors.stderr } };
    for (const stream of ['stdout', 'stderr'] as const) {
      const cursor = next[stream];
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
    if (out.length === 0) {
      w.cursors = next; // only a partial line moved from the file into memory
      return;
    }
    await this.store.append(w.runId, w.attempt, out);
    w.cursors = next;
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
