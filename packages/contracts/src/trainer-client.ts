/** The trainer's side of the hub protocol (see trainer-protocol.ts): typed calls with a run-scoped token. */
import type { z } from 'zod';
import {
  AssignmentSchema,
  CheckpointCommitReplySchema,
  CheckpointUploadReplySchema,
  HeartbeatReplySchema,
  PresignedSchema,
  TRAINER_API_PREFIX,
  TrainerErrorSchema,
  type Assignment,
  type Finish,
  type Heartbeat,
  type MetricPoint,
  type Presigned,
} from './trainer-protocol.ts';
import { encodeMetricBatch, METRIC_BATCH_CONTENT_TYPE } from './metric-batch.ts';

export class TrainerApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TrainerApiError';
  }
  /** The token was revoked (run ended, attempt superseded): the trainer must stop. */
  get revoked(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export interface TrainerClientOptions {
  hubUrl: string;
  runToken: string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

export class TrainerClient {
  private readonly base: string;

  constructor(private readonly opts: TrainerClientOptions) {
    this.base = `${opts.hubUrl.replace(/\/+$/, '')}${TRAINER_API_PREFIX}`;
  }

  assignment(): Promise<Assignment> {
    return this.call('GET', '/run', undefined, AssignmentSchema);
  }

  shardUrl(name: string): Promise<Presigned> {
    return this.call('POST', '/dataset/shard-url', { name }, PresignedSchema);
  }

  heartbeat(beat: Heartbeat): Promise<{ cancelRequested: boolean }> {
    return this.call('POST', '/heartbeat', beat, HeartbeatReplySchema);
  }

  /** Sent binary (metric-batch.ts): a fraction of the JSON's bytes and CPU on both sides; NaN/±Infinity as is. */
  async metrics(points: MetricPoint[]): Promise<void> {
    await this.call('POST', '/metrics', new BinaryBody(METRIC_BATCH_CONTENT_TYPE, encodeMetricBatch(points)));
  }

  checkpointUploads(step: number, sizes: Record<'model.json' | 'weights.bin', number>) {
    return this.call('POST', '/checkpoints/upload', { step, files: sizes }, CheckpointUploadReplySchema);
  }

  commitCheckpoint(step: number, sizes: Record<'model.json' | 'weights.bin', number>) {
    return this.call('POST', '/checkpoints/commit', { step, files: sizes }, CheckpointCommitReplySchema);
  }

  sampleUpload(step: number, size: number): Promise<Presigned> {
    return this.call('POST', '/samples/upload', { step, size }, PresignedSchema);
  }

  async commitSample(sample: {
    step: number;
    size: number;
    width: number;
    height: number;
    seeds: number[];
  }): Promise<void> {
    await this.call('POST', '/samples/commit', sample);
  }

  async finish(finish: Finish): Promise<void> {
    await this.call('POST', '/finish', finish);
  }

  private async call<T>(method: string, path: string, body?: unknown, schema?: z.ZodType<T>): Promise<T> {
    const binary = body instanceof BinaryBody;
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.opts.runToken}`,
        ...(body === undefined ? {} : { 'content-type': binary ? body.contentType : 'application/json' }),
      },
      // Uint8Array is a valid fetch body in Node; the DOM lib typing only lacks the generic ArrayBufferLike overload.
      body: body === undefined ? undefined : binary ? (body.bytes as unknown as BodyInit) : JSON.stringify(body),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new TrainerApiError(
        res.status,
        'BAD_RESPONSE',
        `${method} ${path}: non-JSON response (${res.status}): ${text.slice(0, 200)}`,
      );
    }
    if (!res.ok) {
      const err = TrainerErrorSchema.safeParse(json);
      const { code, message } = err.success
        ? err.data.error
        : { code: 'HTTP_' + res.status, message: text.slice(0, 200) };
      throw new TrainerApiError(res.status, code, `${method} ${path}: ${message}`);
    }
    return schema ? schema.parse(json) : (json as T);
  }
}

/** A request body sent as is rather than as JSON. */
class BinaryBody {
  constructor(
    readonly contentType: string,
    readonly bytes: Uint8Array,
  ) {}
}

/** PUT bytes to a presigned URL (DiskStore: the hub; S3: the bucket). */
export async function putToUrl(target: Presigned, data: Uint8Array): Promise<void> {
  // Uint8Array is a valid fetch body in Node; the DOM lib typing only lacks the generic ArrayBufferLike overload.
  const res = await fetch(target.url, {
    method: target.method,
    headers: target.headers,
    body: data as unknown as BodyInit,
  });
  if (!res.ok)
    throw new Error(
      `upload to ${new URL(target.url).pathname} failed: ${res.status} ${(await res.text()).slice(0, 200)}`,
    );
}

export async function getFromUrl(target: Presigned): Promise<Uint8Array> {
  const res = await fetch(target.url, { method: target.method, headers: target.headers });
  if (!res.ok) throw new Error(`download of ${new URL(target.url).pathname} failed: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
