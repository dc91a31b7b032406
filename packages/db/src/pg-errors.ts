/**
 * Postgres ending our connection because it is shutting down (SQLSTATE 57P01, "terminating connection due to
 * administrator command"): what Ctrl-C on `npm start` does to the embedded cluster (the terminal signals it too).
 * Expected, and reconnected from; not worth a warning.
 */
export function isAdminShutdown(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '57P01';
}
