import type { ApiToken, Db, Session, User } from '@dapple/db';
import type pg from 'pg';
import type { Logger } from 'pino';

/** Who is calling, resolved once per request from the session cookie or a Bearer API token. */
export type Viewer =
  { kind: 'session'; user: User; session: Session } | { kind: 'apiToken'; user: User; apiToken: ApiToken };

/** What services need from a request: the caller and where the request came from. */
export interface RequestMeta {
  viewer: Viewer | null;
  ip: string | null;
  userAgent: string | null;
  log: Logger;
}

/** What every service is built with (createServices, once per hub). */
export interface ServiceDeps {
  db: Db;
  /**
   * The node-postgres pool behind `db`, made by the same createDb: hot-path SQL (metrics COPY and queries)
   * and the dedicated LISTEN connections.
   */
  pool: pg.Pool;
  now: () => Date;
}

/** A drizzle transaction, as `db.transaction(fn)` hands it to `fn`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
