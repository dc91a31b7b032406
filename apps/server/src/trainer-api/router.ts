import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import {
  CheckpointCommitSchema,
  CheckpointUploadRequestSchema,
  FinishSchema,
  HeartbeatSchema,
  MetricBatchSchema,
  parseMetricPoints,
  SampleCommitSchema,
  SampleUploadRequestSchema,
  ShardUrlRequestSchema,
  TRAINER_API_PREFIX,
  type TrainerErrorBody,
} from '@dapple/contracts/trainer-protocol';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { sanitizeJson } from '@dapple/db';
import { ServiceError } from '../services/errors.ts';
import type { TrainerRunService } from '../services/runs/index.ts';
import { parseInput } from '../services/validation.ts';
import { bearerToken, failureResponse, MAX_BODY_BYTES, unavailableResponse } from './shared.ts';

export { TRAINER_API_PREFIX };

/** A request body checked against its protocol schema; BAD_USER_INPUT (400) names the first bad field. */
function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  // A trainer's text (log lines, error messages, metric names) is stored as it can be: NUL and lone surrogates
  // would make Postgres refuse the write.
  return parseInput(schema, sanitizeJson(body), { fallback: 'body' });
}

function bearer(req: Request): string | undefined {
  return bearerToken(req.headers.authorization);
}

/**
 * REST surface for trainers (see @dapple/contracts/trainer-protocol): every route authenticates the run
 * token and acts on that token's run only; request bodies are strict zod objects.
 */
export function trainerApiRouter(trainer: TrainerRunService, log: Logger): Router {
  const router = express.Router();
  router.use(express.json({ limit: MAX_BODY_BYTES }));

  const route =
    (handler: (req: Request, auth: Awaited<ReturnType<TrainerRunService['authenticate']>>) => Promise<unknown>) =>
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        const auth = await trainer.authenticate(bearer(req));
        res.json((await handler(req, auth)) ?? { ok: true });
      } catch (err) {
        next(err);
      }
    };

  router.get(
    '/run',
    route((_req, { run }) => trainer.assignment(run)),
  );
  router.post(
    '/dataset/shard-url',
    route((req, { run }) => trainer.shardUrl(run, parse(ShardUrlRequestSchema, req.body).name)),
  );
  router.post(
    '/heartbeat',
    route((req, { principal }) => trainer.heartbeat(principal, parse(HeartbeatSchema, req.body))),
  );
  // The JSON body `{ points }`. TrainerClient sends binary batches, which the hub answers before express
  // (metrics-fast-path.ts). Both use the cached token check (authenticateForMetrics): no run row needed.
  router.post('/metrics', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const principal = await trainer.authenticateForMetrics(bearer(req));
      res.json(await trainer.metrics(principal, parseJsonBatch(req.body)));
    } catch (err) {
      next(err);
    }
  });
  router.post(
    '/checkpoints/upload',
    route((req, { principal }) => {
      const body = parse(CheckpointUploadRequestSchema, req.body);
      return trainer.checkpointUploads(principal, body.step, body.files);
    }),
  );
  router.post(
    '/checkpoints/commit',
    route((req, { principal, run }) => {
      const body = parse(CheckpointCommitSchema, req.body);
      return trainer.commitCheckpoint(principal, run, body.step, body.files);
    }),
  );
  router.post(
    '/samples/upload',
    route((req, { principal }) => {
      const body = parse(SampleUploadRequestSchema, req.body);
      return trainer.sampleUpload(principal, body.step, body.size);
    }),
  );
  router.post(
    '/samples/commit',
    route((req, { principal }) => trainer.commitSample(principal, parse(SampleCommitSchema, req.body))),
  );
  router.post(
    '/finish',
    route(async (req, { principal }) => {
      const run = await trainer.finish(principal, parse(FinishSchema, req.body));
      return { status: run.status };
    }),
  );

  router.use((req: Request, res: Response) =>
    sendError(res, 404, { error: { code: 'NOT_FOUND', message: `No trainer route ${req.method} ${req.path}` } }),
  );
  router.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof ServiceError) {
      const { status, body } = failureResponse(err);
      return sendError(res, status, body);
    }
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.parse.failed')
      return sendError(res, 400, { error: { code: 'BAD_REQUEST', message: 'request body is not valid JSON' } });
    if (e.type === 'entity.too.large')
      return sendError(res, 413, { error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body over 2 MB' } });
    const unavailable = unavailableResponse(err);
    if (unavailable) {
      log.warn({ err }, 'trainer API request failed: the database is unreachable');
      return sendError(res.set(unavailable.headers), unavailable.status, unavailable.body);
    }
    log.error({ err }, 'trainer API request failed');
    return sendError(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'internal error' } });
  });
  return router;
}

function parseJsonBatch(body: unknown) {
  const raw = parse(MetricBatchSchema, body).points;
  try {
    return parseMetricPoints(raw);
  } catch (err) {
    throw new ServiceError('BAD_USER_INPUT', (err as Error).message, { field: (err as { field?: string }).field });
  }
}

function sendError(res: Response, status: number, body: TrainerErrorBody): void {
  res.status(status).json(body);
}
