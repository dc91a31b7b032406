import { and, asc, eq, isNull } from 'drizzle-orm';
import {
  checkpoints,
  runs,
  runTokens,
  sampleGrids,
  type Run,
  insertMetricColumns,
  insertMetricPoints,
  MetricsInputError,
  type MetricColumnsInput,
} from '@dapple/db';
import { RunConfigSchema } from '@dapple/contracts/run-config';
import {
  CHECKPOINT_FILES,
  type Assignment,
  type Finish,
  type Heartbeat,
  type MetricPoint,
  type Presigned,
} from '@dapple/contracts/trainer-protocol';
import type { ObjectStore } from '@dapple/storage';
import { sha256Hex } from '../auth/index.ts';
import { badInput, conflict, unauthenticated } from '../errors.ts';
import { checkpointPrefix, sampleGridKey } from './objects.ts';
import { toPresigned, TrainerAssignments, URL_TTL_SEC } from './trainer-assignment.ts';
import type { RunSignals } from './signals.ts';
import { isActive, lockRun, requeueOrFail, revokeRunTokens, transition } from './state.ts';
import type { ServiceDeps, Tx } from '../types.ts';

/** Who is calling: one attempt of one run, identified by its token (never by a run id the caller sends). */
export interface TrainerPrincipal {
  runId: string;
  attempt: number;
}

/**
 * What a trainer may do, scoped by its run token: read its assignment, report progress, upload
 * artifacts, finish. Every call re-checks the token, so a revoked token (run ended, attempt superseded)
 * stops working at once.
 */
export class TrainerRunService {
  /**
   * Token checks for the hot metrics route, kept ≤ 1 s and dropped as soon as any hub reports a change of
   * that run (every revocation comes with one), so an ended run's token stops writing metrics at once.
   */
  private readonly metricsAuth = new Map<string, { principal: TrainerPrincipal; at: number }>();
  private readonly assignments: TrainerAssignments;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly store: ObjectStore,
    private readonly signals: RunSignals,
  ) {
    this.assignments = new TrainerAssignments(deps, store);
    signals.onRunUpdated((runId) => {
      for (const [hash, entry] of this.metricsAuth) if (entry.principal.runId === runId) this.metricsAuth.delete(hash);
    });
  }

  /** authenticate() for the metrics route, with the short cache above. */
  async authenticateForMetrics(token: string | undefined): Promise<TrainerPrincipal> {
    const hash = token ? sha256Hex(token) : '';
    const cached = this.metricsAuth.get(hash);
    if (cached && Date.now() - cached.at < 1000) return cached.principal;
    const { principal } = await this.authenticate(token);
    if (this.metricsAuth.size > 10_000) this.metricsAuth.clear();
    this.metricsAuth.set(hash, { principal, at: Date.now() });
    return principal;
  }

  async authenticate(token: string | undefined): Promise<{ principal: TrainerPrincipal; run: Run }> {
    if (!token) throw unauthenticated('Authorization: Bearer <run token> is required');
    const [row] = await this.deps.db
      .select({ token: runTokens, run: runs })
      .from(runTokens)
      .innerJoin(runs, eq(runs.id, runTokens.runId))
      .where(and(eq(runTokens.tokenHash, sha256Hex(token)), isNull(runTokens.revokedAt)));
    if (!row || row.run.attempt !== row.token.attempt || !isActive(row.run.status)) {
      throw unauthenticated('run token is invalid, revoked, or its run attempt has ended');
    }
    return { principal: { runId: row.run.id, attempt: row.token.attempt }, run: row.run };
  }

  /** The run, its dataset and where to start from (its last checkpoint, or a fine-tune's base weights). */
  assignment(run: Run): Promise<Assignment> {
    return this.assignments.assignment(run);
  }

  shardUrl(run: Run, name: string): Promise<Presigned> {
    return this.assignments.shardUrl(run, name);
  }

  async heartbeat(p: TrainerPrincipal, beat: Heartbeat): Promise<{ cancelRequested: boolean }> {
    const now = this.deps.now();
    const result = await this.deps.db.transaction(async (tx) => {
      const run = await this.lockOwn(tx, p);
      const patch = {
        lastHeartbeatAt: now,
        step: beat.step,
        ...(beat.imagesPerSec != null ? { imagesPerSec: beat.imagesPerSec } : {}),
      };
      // `running` once the model is built and training begins (not while TF.js loads and the checkpoint downloads).
      if (run.status === 'starting' && beat.phase !== undefined && beat.phase !== 'loading')
        return {
          run: await transition(tx, run, 'running', `trainer attempt ${p.attempt} is running`, patch),
          changed: true,
        };
      const [updated] = await tx.update(runs).set(patch).where(eq(runs.id, run.id)).returning();
      return { run: updated!, changed: false };
    });
    await this.signals.notify({ kind: 'updated', runId: p.runId });
    return { cancelRequested: result.run.cancelRequested };
  }

  /** Stores a batch (JSON points or binary columns); a resent batch stores nothing. Coalesced NOTIFY for live charts. */
  async metrics(p: TrainerPrincipal, batch: MetricPoint[] | MetricColumnsInput): Promise<{ inserted: number }> {
    try {
      const pool = this.deps.pool;
      const { inserted, maxStep } = Array.isArray(batch)
        ? await insertMetricPoints(pool, p.runId, batch)
        : await insertMetricColumns(pool, p.runId, batch);
      if (inserted > 0 && maxStep !== null) {
        let fromStep = maxStep;
        if (Array.isArray(batch)) {
          for (const x of batch) if (x.step < fromStep) fromStep = x.step;
        } else {
          for (let i = 0; i < batch.steps.length; i++) if (batch.steps[i]! < fromStep) fromStep = batch.steps[i]!;
        }
        this.signals.notifyMetricsSoon(p.runId, fromStep, maxStep);
      }
      return { inserted };
    } catch (err) {
      if (err instanceof MetricsInputError) throw badInput(err.field, err.message);
      throw err;
    }
  }

  async checkpointUploads(p: TrainerPrincipal, step: number, files: Record<'model.json' | 'weights.bin', number>) {
    const prefix = checkpointPrefix(p.runId, step);
    const signed = await Promise.all(
      CHECKPOINT_FILES.map((f) =>
        this.store.presignPut(`${prefix}/${f}`, {
          size: files[f],
          expiresInSec: URL_TTL_SEC,
          contentType: 'application/octet-stream',
        }),
      ),
    );
    return { files: { 'model.json': toPresigned(signed[0]!), 'weights.bin': toPresigned(signed[1]!) } };
  }

  /** Records an uploaded checkpoint and prunes the oldest beyond keepCheckpoints, never step 0 (rows and objects). */
  async commitCheckpoint(
    p: TrainerPrincipal,
    run: Run,
    step: number,
    files: Record<'model.json' | 'weights.bin', number>,
  ) {
    const prefix = checkpointPrefix(p.runId, step);
    for (const f of CHECKPOINT_FILES) {
      const stat = await this.store.stat(`${prefix}/${f}`);
      if (!stat) throw conflict(`checkpoint file ${f} of step ${step} was not uploaded`, `files.${f}`);
      if (stat.size !== files[f])
        throw conflict(`checkpoint file ${f} has ${stat.size} bytes, not ${files[f]}`, `files.${f}`);
    }
    const keep = RunConfigSchema.parse(run.config).keepCheckpoints;
    const size = files['model.json'] + files['weights.bin'];
    const deleted = await this.deps.db.transaction(async (tx) => {
      await this.lockOwn(tx, p);
      await tx
        .insert(checkpoints)
        .values({ runId: p.runId, step, objectPrefix: prefix, sizeBytes: size })
        .onConflictDoUpdate({
          target: [checkpoints.runId, checkpoints.step],
          set: { objectPrefix: prefix, sizeBytes: size, createdAt: this.deps.now() },
        });
      const all = await tx
        .select()
        .from(checkpoints)
        .where(eq(checkpoints.runId, p.runId))
        .orderBy(asc(checkpoints.step));
      // Step 0 (the untrained baseline every run saves) is kept besides the newest `keep`.
      const prunable = all.filter((c) => c.step !== 0);
      const old = prunable.slice(0, Math.max(0, prunable.length - keep));
      for (const c of old) await tx.delete(checkpoints).where(eq(checkpoints.id, c.id));
      return old;
    });
    // Objects go after the rows: a crash in between leaves unreferenced files, never a row without files.
    for (const c of deleted) await this.store.deletePrefix(`${c.objectPrefix}/`);
    await this.signals.notify({ kind: 'updated', runId: p.runId });
    const kept = (
      await this.deps.db
        .select({ step: checkpoints.step })
        .from(checkpoints)
        .where(eq(checkpoints.runId, p.runId))
        .orderBy(asc(checkpoints.step))
    ).map((r) => r.step);
    return { kept, deleted: deleted.map((c) => c.step) };
  }

  async sampleUpload(p: TrainerPrincipal, step: number, size: number): Promise<Presigned> {
    return toPresigned(
      await this.store.presignPut(sampleGridKey(p.runId, step), {
        size,
        contentType: 'image/png',
        expiresInSec: URL_TTL_SEC,
      }),
    );
  }

  async commitSample(
    p: TrainerPrincipal,
    s: { step: number; size: number; width: number; height: number; seeds: number[] },
  ): Promise<void> {
    const key = sampleGridKey(p.runId, s.step);
    const stat = await this.store.stat(key);
    if (!stat || stat.size !== s.size)
      throw conflict(`sample grid of step ${s.step} was not uploaded (or has another size)`, 'size');
    await this.deps.db.transaction(async (tx) => {
      await this.lockOwn(tx, p);
      await tx
        .insert(sampleGrids)
        .values({ runId: p.runId, step: s.step, objectKey: key, seeds: s.seeds, width: s.width, height: s.height })
        .onConflictDoUpdate({
          target: [sampleGrids.runId, sampleGrids.step],
          set: { seeds: s.seeds, width: s.width, height: s.height, createdAt: this.deps.now() },
        });
    });
    await this.signals.notify({ kind: 'updated', runId: p.runId });
  }

  /**
   * The attempt's last word. succeeded/failed end the run; stopped (SIGTERM) ends it `cancelled` when a
   * cancel was requested, otherwise the run goes back to the queue like a lost one.
   */
  async finish(p: TrainerPrincipal, f: Finish): Promise<Run> {
    const now = this.deps.now();
    const run = await this.deps.db.transaction(async (tx) => {
      const run = await this.lockOwn(tx, p);
      await revokeRunTokens(tx, run.id, now);
      const ended = { finishedAt: now, step: f.step, lastHeartbeatAt: now };
      if (f.outcome === 'succeeded') return transition(tx, run, 'succeeded', `trainer finished ${f.step} steps`, ended);
      if (f.outcome === 'failed')
        return transition(tx, run, 'failed', 'trainer reported an error', {
          ...ended,
          error: f.error ?? 'trainer failed',
        });
      if (run.cancelRequested)
        return transition(tx, run, 'cancelled', `trainer stopped at step ${f.step} after the cancel`, ended);
      return requeueOrFail(tx, { ...run, step: f.step }, `trainer was stopped at step ${f.step} without a cancel`, now);
    });
    await this.signals.notify({ kind: 'updated', runId: p.runId });
    return run;
  }

  /** Locks the caller's run and checks the attempt is still the current, active one. */
  private async lockOwn(tx: Tx, p: TrainerPrincipal): Promise<Run> {
    const run = await lockRun(tx, p.runId);
    if (!run || run.attempt !== p.attempt || !isActive(run.status)) {
      throw unauthenticated('run token is invalid, revoked, or its run attempt has ended');
    }
    return run;
  }
}
