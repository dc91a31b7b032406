import type { Request, Response } from 'express';
import pg from 'pg';
import type { Logger } from '../logger.ts';

/**
 * GET /healthz on a connection of its own (not the hub's pool), so a flood of GraphQL requests holding every pooled
 * connection cannot make the hub look dead; the flood's own cost is bounded by the GraphQL limits (graphql/limits.ts),
 * which refuse expensive operations before running them. Concurrent checks share one probe.
 */
export function healthCheck(pool: pg.Pool, logger: Logger) {
  const probePool = new pg.Pool({
    ...pool.options,
    max: 1,
    application_name: 'dapple-hub-health',
    // Kept open: under load a check is then one round trip, not a connection handshake of several.
    idleTimeoutMillis: 0,
    connectionTimeoutMillis: 10_000,
    statement_timeout: 10_000,
  });
  probePool.on('error', (err) => logger.warn({ err }, 'health check: its database connection failed'));
  let inFlight: Promise<void> | null = null;
  const probe = () =>
    (inFlight ??= probePool
      .query('select 1')
      .then(() => undefined)
      .finally(() => (inFlight = null)));
  void probe().catch(() => {}); // opens the connection now
  return {
    handler: async (req: Request, res: Response) => {
      try {
        await probe();
        res.json({ status: 'ok', db: 'ok' });
      } catch (err) {
        req.log.warn({ err }, 'health check: database unreachable');
        res.status(503).json({ status: 'error', db: 'unreachable' });
      }
    },
    close: () => probePool.end().catch(() => {}),
  };
}
