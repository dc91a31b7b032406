import { request, type Connection } from './graphql.ts';

/**
 * Polls one of the hub's jobs (a sample job, an evaluation) until its status is one of `finished`, and returns it
 * then. `onChange` hears of the job whenever `progressKey` says something about it changed, so progress on stderr is
 * redrawn for news only.
 */
export async function followJob<T extends { id: string; status: string }>(
  conn: Connection,
  first: T,
  opts: {
    /** The query that reads the job again: `$id` is the job's id, its one root field the job. */
    query: string;
    finished: ReadonlySet<string>;
    progressKey: (job: T) => string;
    onChange: (job: T) => void;
    intervalMs: number;
  },
): Promise<T> {
  let job = first;
  let last = '';
  for (;;) {
    const key = opts.progressKey(job);
    if (key !== last) opts.onChange(job);
    last = key;
    if (opts.finished.has(job.status)) return job;
    await new Promise((r) => setTimeout(r, opts.intervalMs));
    const data = await request<Record<string, T>>(conn, opts.query, { id: job.id });
    job = Object.values(data)[0]!;
  }
}

/**
 * Ctrl-C while following jobs cancels them (`cancel`) before the CLI exits 130, instead of leaving them to run for
 * nobody. Returns the function that stops listening (call it once the jobs ended).
 */
export function cancelOnInterrupt(cancel: () => Promise<unknown>): () => void {
  const onSigint = () => {
    void cancel()
      .catch(() => undefined)
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  return () => process.off('SIGINT', onSigint);
}
