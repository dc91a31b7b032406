import { and, eq, isNull } from 'drizzle-orm';
import { runEvents, runs, runTokens, type NewRun, type Run, type RunStatus } from '@dapple/db';
import type { ServiceDeps, Tx } from '../types.ts';

export type DbOrTx = ServiceDeps['db'] | Tx;

export const isActive = (s: RunStatus) => s === 'starting' || s === 'running' || s === 'cancelling';
export const isFinished = (s: RunStatus) => s === 'cancelled' || s === 'succeeded' || s === 'failed';

export async function lockRun(tx: Tx, runId: string): Promise<Run | undefined> {
  const [run] = await tx.select().from(runs).where(eq(runs.id, runId)).for('update');
  return run;
}

/** Changes a run's status (plus any other columns) and records the transition in run_events. */
export async function transition(
  tx: Tx,
  run: Run,
  to: RunStatus,
  message: string,
  patch: Partial<NewRun> = {},
  actorId: string | null = null,
): Promise<Run> {
  const [updated] = await tx
    .update(runs)
    .set({ ...patch, status: to })
    .where(eq(runs.id, run.id))
    .returning();
  if (!updated) throw new Error(`run ${run.id} vanished during a status change`);
  await tx
    .insert(runEvents)
    .values({ runId: run.id, attempt: updated.attempt, fromStatus: run.status, toStatus: to, message, actorId });
  return updated;
}

export async function recordEvent(tx: DbOrTx, run: Run, message: string, actorId: string | null = null): Promise<void> {
  await tx
    .insert(runEvents)
    .values({ runId: run.id, attempt: run.attempt, fromStatus: null, toStatus: null, message, actorId });
}

/** Every token of the run stops working (the attempt ended or was superseded). */
export async function revokeRunTokens(tx: DbOrTx, runId: string, now: Date): Promise<void> {
  await tx
    .update(runTokens)
    .set({ revokedAt: now })
    .where(and(eq(runTokens.runId, runId), isNull(runTokens.revokedAt)));
}

/**
 * After an attempt ended without finishing (heartbeats stopped, trainer stopped by something other than
 * a cancel): `lost`, then back to the queue from its last checkpoint while attempts remain, else `failed`.
 */
export async function requeueOrFail(tx: Tx, run: Run, reason: string, now: Date): Promise<Run> {
  await revokeRunTokens(tx, run.id, now);
  const lost = run.status === 'lost' ? run : await transition(tx, run, 'lost', reason, { lastHeartbeatAt: null });
  const detached = { executorHandle: null, executorSlot: null, executorHost: null, imagesPerSec: null };
  if (lost.attempt < lost.maxAttempts) {
    return transition(
      tx,
      lost,
      'queued',
      `re-queued from its last checkpoint (attempt ${lost.attempt + 1} of ${lost.maxAttempts} next)`,
      {
        ...detached,
        startedAt: null,
      },
    );
  }
  return transition(tx, lost, 'failed', `gave up after ${lost.attempt} attempts`, {
    ...detached,
    finishedAt: now,
    error: `${reason}; gave up after ${lost.attempt} of ${lost.maxAttempts} attempts`,
  });
}
