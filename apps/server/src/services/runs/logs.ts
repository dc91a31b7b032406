import { desc, eq, sql } from 'drizzle-orm';
import { CPU_BANNER } from '@dapple/models/config';
import { runLogs, sanitizeText, type LogStream, type RunLog } from '@dapple/db';
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

/** A run's log lines in Postgres (run_logs): what the run page shows; trainer output is copied in by a follower. */
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
          kept.slice(i, i + 1000).map((l) => ({
            runId,
            attempt,
            seq: l.seq,
            stream: l.stream,
            line: sanitizeText(l.line.slice(0, MAX_LOG_LINE_CHARS)),
          })),
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
