import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeMetricBatch, METRIC_BATCH_CONTENT_TYPE, MetricBatchFormatError } from '@dapple/contracts/metric-batch';
import { TRAINER_API_PREFIX, type TrainerErrorBody } from '@dapple/contracts/trainer-protocol';
import type { Logger } from 'pino';
import { badInput, ServiceError } from '../services/errors.ts';
import type { TrainerRunService } from '../services/runs/index.ts';
import { bearerToken, failureResponse, MAX_BODY_BYTES, unavailableResponse } from './shared.ts';

const PATH = `${TRAINER_API_PREFIX}/metrics`;
const INCOMING_ID = /^[\w.:-]{1,64}$/;

/**
 * `POST /api/trainer/v1/metrics` with a binary batch (what TrainerClient sends), answered from node:http
 * ahead of express. It is the hub's hottest route (every run, every few seconds), and express's
 * per-request work — decorating req/res, walking every layer, body parser, res.json — was about a
 * quarter of the hub's CPU per batch (apps/server/bench/metrics-ingest.ts, hubCpuMsPerKPoints ~1.35 →
 * ~1.0). Same token check, limit, error bodies and request log line as the express routes; JSON bodies
 * still go to express (router.ts). Returns false for any other request.
 */
export function metricsFastPath(
  trainer: TrainerRunService,
  log: Logger,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== PATH || !isBinaryBatch(req.headers['content-type']))
      return false;
    void handle(trainer, log, req, res);
    return true;
  };
}

function isBinaryBatch(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';')[0]!.trim().toLowerCase() === METRIC_BATCH_CONTENT_TYPE;
}

async function handle(
  trainer: TrainerRunService,
  log: Logger,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = process.hrtime.bigint();
  const incoming = req.headers['x-request-id'];
  const reqId = typeof incoming === 'string' && INCOMING_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('x-request-id', reqId);
  try {
    const body = await readBody(req);
    if (!body) {
      res.setHeader('connection', 'close');
      send(res, 413, { error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body over 2 MB' } });
    } else {
      const principal = await trainer.authenticateForMetrics(bearerToken(req.headers.authorization));
      send(res, 200, await trainer.metrics(principal, decode(body)));
    }
  } catch (err) {
    const unavailable = unavailableResponse(err);
    if (err instanceof ServiceError) {
      const { status, body } = failureResponse(err);
      send(res, status, body);
    } else if (res.destroyed || req.socket.destroyed) {
      // The trainer went away mid-request: nobody to answer. (Not `req.destroyed`: a request whose body was read
      // whole is destroyed too, and the failure after it — a database outage — went unanswered until the
      // trainer's own timeout, holding back its heartbeats.)
      return;
    } else if (unavailable && !res.headersSent) {
      log.warn({ err, reqId }, 'trainer API request failed: the database is unreachable');
      for (const [name, value] of Object.entries(unavailable.headers)) res.setHeader(name, value);
      send(res, unavailable.status, unavailable.body);
    } else {
      log.error({ err, reqId }, 'trainer API request failed');
      if (!res.headersSent) send(res, 500, { error: { code: 'INTERNAL_SERVER_ERROR', message: 'internal error' } });
      else res.destroy();
    }
  }
  // As http/request-log.ts logs the express routes, at debug: failures stay at info.
  const line = {
    reqId,
    method: req.method,
    path: PATH,
    status: res.statusCode,
    ms: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
  };
  if (res.statusCode < 400) log.debug(line, 'request');
  else log.info(line, 'request');
}

/** The body, or null when it is over the limit (the rest is discarded). */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
    req.resume();
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        req.resume();
        resolve(null);
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () =>
      resolve(size > MAX_BODY_BYTES ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)),
    );
    req.once('error', reject);
  });
}

function decode(body: Buffer) {
  try {
    return decodeMetricBatch(body);
  } catch (err) {
    if (err instanceof MetricBatchFormatError) throw badInput(err.field, err.message);
    throw err;
  }
}

function send(res: ServerResponse, status: number, body: { inserted: number } | TrainerErrorBody): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
