/**
 * The binary body of `POST /metrics` (content type METRIC_BATCH_CONTENT_TYPE), what TrainerClient sends.
 * A 1000-point batch is ~14 KB instead of ~50 KB of JSON, costs no JSON.stringify/parse and no object per
 * point on either side, and carries NaN/±Infinity as themselves. The hub still accepts the JSON body
 * `{ points: [{ key, step, value }] }` (see trainer-protocol.ts).
 *
 * Layout, little-endian:
 *   magic "DPM1" | u32 pointCount | u32 keyCount | keyCount × (u8 length, ASCII bytes)
 *   | pointCount × u16 key index | pointCount × u32 step | pointCount × f64 value
 * Key syntax, step range and per-run limits are checked by the hub's metrics store, as for JSON.
 */
import { MAX_METRIC_POINTS_PER_BATCH, type MetricPoint } from './trainer-protocol.ts';

export const METRIC_BATCH_CONTENT_TYPE = 'application/vnd.dapple.metric-batch';
const MAGIC = 0x314d5044; // "DPM1" read as a little-endian u32
const HEADER = 12;
/** Longer keys are refused by the store anyway (128); this is what one length byte can say. */
const MAX_WIRE_KEY_LENGTH = 255;

/** A batch as columns: point i is (keys[keyIndex[i]], steps[i], values[i]). */
export interface MetricBatchColumns {
  keys: string[];
  keyIndex: Uint16Array;
  steps: Uint32Array;
  values: Float64Array;
}

/** A malformed body; `field` names what was wrong, like the JSON path's errors. */
export class MetricBatchFormatError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'MetricBatchFormatError';
  }
}

export function encodeMetricBatch(points: readonly MetricPoint[]): Uint8Array {
  const keyIndex = new Map<string, number>();
  for (const p of points) if (!keyIndex.has(p.key)) keyIndex.set(p.key, keyIndex.size);
  const keys = [...keyIndex.keys()];
  for (const k of keys) {
    // Keys are ASCII by the protocol's rules; anything else must fail loudly here, not arrive mangled.
    if (k.length > MAX_WIRE_KEY_LENGTH || !/^[\x20-\x7e]*$/.test(k))
      throw new Error(`metric key ${JSON.stringify(k.slice(0, 40))} is not a short ASCII string`);
  }
  if (keys.length > 0xffff) throw new Error(`a metric batch may name at most 65535 keys, got ${keys.length}`);
  const n = points.length;
  const keyBytes = keys.reduce((sum, k) => sum + 1 + k.length, 0);
  const buf = new Uint8Array(HEADER + keyBytes + n * (2 + 4 + 8));
  const view = new DataView(buf.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, n, true);
  view.setUint32(8, keys.length, true);
  let off = HEADER;
  for (const k of keys) {
    buf[off++] = k.length;
    for (let i = 0; i < k.length; i++) buf[off++] = k.charCodeAt(i);
  }
  const indexAt = off;
  const stepAt = indexAt + 2 * n;
  const valueAt = stepAt + 4 * n;
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    if (!Number.isInteger(p.step) || p.step < 0 || p.step > 0xffffffff)
      throw new Error(`points[${i}].step: ${p.step} is not a non-negative integer`);
    view.setUint16(indexAt + 2 * i, keyIndex.get(p.key)!, true);
    view.setUint32(stepAt + 4 * i, p.step, true);
    view.setFloat64(valueAt + 8 * i, p.value, true);
  }
  return buf;
}

/** Body bytes → columns. Throws MetricBatchFormatError naming the first thing that is wrong. */
export function decodeMetricBatch(body: Uint8Array): MetricBatchColumns {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (body.byteLength < HEADER || view.getUint32(0, true) !== MAGIC)
    throw new MetricBatchFormatError('body', `not a ${METRIC_BATCH_CONTENT_TYPE} body (bad magic)`);
  const n = view.getUint32(4, true);
  const keyCount = view.getUint32(8, true);
  if (n > MAX_METRIC_POINTS_PER_BATCH)
    throw new MetricBatchFormatError('points', `at most ${MAX_METRIC_POINTS_PER_BATCH} points per batch, got ${n}`);
  if (keyCount > Math.max(n, 1)) throw new MetricBatchFormatError('keys', `${keyCount} keys for ${n} points`);
  const keys = new Array<string>(keyCount);
  let off = HEADER;
  for (let k = 0; k < keyCount; k++) {
    if (off >= body.byteLength) throw new MetricBatchFormatError('keys', 'body ends inside the key list');
    const len = body[off++]!;
    if (off + len > body.byteLength) throw new MetricBatchFormatError(`keys[${k}]`, 'body ends inside the key');
    keys[k] = String.fromCharCode(...body.subarray(off, off + len));
    off += len;
  }
  if (body.byteLength !== off + n * (2 + 4 + 8)) {
    throw new MetricBatchFormatError(
      'body',
      `${body.byteLength} bytes, expected ${off + n * 14} for ${n} points and ${keyCount} keys`,
    );
  }
  const keyIndex = new Uint16Array(n);
  const steps = new Uint32Array(n);
  const values = new Float64Array(n);
  const stepAt = off + 2 * n;
  const valueAt = stepAt + 4 * n;
  for (let i = 0; i < n; i++) {
    const k = view.getUint16(off + 2 * i, true);
    if (k >= keyCount)
      throw new MetricBatchFormatError(`keyIndex[${i}]`, `${k} is not an index into the ${keyCount} keys`);
    keyIndex[i] = k;
    steps[i] = view.getUint32(stepAt + 4 * i, true);
    values[i] = view.getFloat64(valueAt + 8 * i, true);
  }
  return { keys, keyIndex, steps, values };
}
