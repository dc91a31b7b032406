import { and, count, eq, gt, inArray, min, sql } from 'drizzle-orm';
import { sampleJobs } from '@dapple/db';
import type { Db } from '@dapple/db';
import type { ShareLinkQuota } from '../../sampling-pool/scheduler.ts';
import { ServiceError } from '../errors.ts';

const HOUR_MS = 3_600_000;

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * A share link is handed to people outside the team, and its jobs run on the team's sampling share: without a
 * quota of its own, one link holder could fill the team's queue so the team gets nothing. Checked inside the
 * transaction that inserts the job, under a lock on the link, so concurrent requests (on any hub) cannot both
 * slip under the limit. Throws RATE_LIMITED naming the limit, with when to try again.
 */
export async function checkShareLinkQuota(tx: Tx, shareLinkId: string, quota: ShareLinkQuota, now: Date) {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`share-link:${shareLinkId}`}, 0))`);
  const [active] = await tx
    .select({ n: count() })
    .from(sampleJobs)
    .where(and(eq(sampleJobs.shareLinkId, shareLinkId), inArray(sampleJobs.status, ['queued', 'running'])));
  if ((active?.n ?? 0) >= quota.maxActiveJobs) {
    throw new ServiceError(
      'RATE_LIMITED',
      `This share link already has ${active!.n} sample jobs waiting or running, its limit is ${quota.maxActiveJobs} at once ` +
        `(DAPPLE_SHARE_LINK_MAX_ACTIVE_JOBS); wait for one to finish`,
      { retryAfterSeconds: 10 },
    );
  }
  const since = new Date(now.getTime() - HOUR_MS);
  const [recent] = await tx
    .select({ n: count(), oldest: min(sampleJobs.queuedAt) })
    .from(sampleJobs)
    .where(and(eq(sampleJobs.shareLinkId, shareLinkId), gt(sampleJobs.queuedAt, since)));
  if ((recent?.n ?? 0) >= quota.maxJobsPerHour) {
    const oldest = recent?.oldest ? new Date(recent.oldest).getTime() : now.getTime();
    const retryAfterSeconds = Math.max(1, Math.ceil((oldest + HOUR_MS - now.getTime()) / 1000));
    throw new ServiceError(
      'RATE_LIMITED',
      `This share link started ${recent!.n} sample jobs in the last hour, its limit is ${quota.maxJobsPerHour} per hour ` +
        `(DAPPLE_SHARE_LINK_JOBS_PER_HOUR); try again in ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
  }
}
