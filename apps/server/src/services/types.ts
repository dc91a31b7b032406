import type { ApiToken, Db, Session, User } from '@dapple/db';
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

export interface ServiceDeps {
  db: Db;
  now: () => Date;
}
