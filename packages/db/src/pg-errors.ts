/**
 * Postgres ending our connection because it is shutting down (SQLSTATE 57P01, "terminating connection due to
 * administrator command"): what Ctrl-C on `npm start` does to the embedded cluster (the terminal signals it too).
 * Expected, and reconnected from; not worth a warning.
 */
export function isAdminShutdown(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === '57P01';
}

/** Driver error codes of a connection that could not be made or was cut (Node's, not Postgres'). */
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
/** node-postgres' messages for a connection it lost or could not get in time (these carry no code). */
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
];

/**
 * True when `err` (or an error in its `cause` chain: drizzle wraps the driver's) says the database cannot be
 * reached right now — refused or cut connections, Postgres shutting down, starting up or in recovery
 * (SQLSTATE 57P01–57P03, class 08) — as opposed to a query that failed. Callers answer "try again" (HTTP 503),
 * not an internal error: nothing the request did is wrong, and nothing was stored.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (CONNECTION_ERRNOS.has(code) || /^57P0[123]$/.test(code) || code.startsWith('08')) return true;
    }
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && CONNECTION_MESSAGES.some((m) => message.includes(m))) return true;
    // AggregateError (a host name resolving to several addresses, every one refused).
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.some((x) => isDatabaseUnavailable(x))) return true;
  }
  return false;
}
