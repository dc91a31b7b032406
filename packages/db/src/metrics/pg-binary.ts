/**
 * Postgres binary array parameters. node-postgres sends a Buffer parameter in binary format, so a
 * `$n::int[]` / `$n::float8[]` / `$n::timestamptz[]` bound to one of these is read by array_recv —
 * a memcpy per element — instead of pg formatting (and escaping) every element as text and Postgres
 * parsing it back with array_in + int4in/float8in/timestamptz_in. On the metric ingest hot path (3000
 * elements per 1000-point batch) that text round trip cost more CPU than the insert itself.
 *
 * Wire layout (see array_recv in PostgreSQL's arrayfuncs.c): int32 ndim, int32 has-nulls flag,
 * int32 element type oid, then per dimension int32 length and int32 lower bound, then per element
 * int32 byte length and the element in network byte order. Elements here are never NULL.
 */

const INT4_OID = 23;
const FLOAT8_OID = 701;
const TIMESTAMPTZ_OID = 1184;
/** Postgres timestamps count microseconds from 2000-01-01 UTC. */
const PG_EPOCH_MS = Date.UTC(2000, 0, 1);

function arrayBuffer(oid: number, length: number, elementSize: number): { buf: Buffer; view: DataView } {
  const header = length === 0 ? 12 : 20;
  const buf = Buffer.allocUnsafe(header + length * (4 + elementSize));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setInt32(0, length === 0 ? 0 : 1); // ndim: an empty array has no dimensions
  view.setInt32(4, 0); // no NULLs
  view.setInt32(8, oid);
  if (length > 0) {
    view.setInt32(12, length);
    view.setInt32(16, 1); // lower bound
  }
  return { buf, view };
}

/** int4[] from the first `length` entries (all must be int32). */
export function int4Array(values: ArrayLike<number>, length = values.length): Buffer {
  const { buf, view } = arrayBuffer(INT4_OID, length, 4);
  for (let i = 0, off = 20; i < length; i++, off += 8) {
    view.setInt32(off, 4);
    view.setInt32(off + 4, values[i]!);
  }
  return buf;
}

/** float8[]: NaN and ±Infinity encode as themselves (IEEE 754, like float8send). */
export function float8Array(values: ArrayLike<number>, length = values.length): Buffer {
  const { buf, view } = arrayBuffer(FLOAT8_OID, length, 8);
  for (let i = 0, off = 20; i < length; i++, off += 12) {
    view.setInt32(off, 8);
    view.setFloat64(off + 4, values[i]!);
  }
  return buf;
}

/** timestamptz[] (integer datetimes, the only kind since PostgreSQL 10), millisecond precision. */
export function timestamptzArray(values: readonly Date[], length = values.length): Buffer {
  const { buf, view } = arrayBuffer(TIMESTAMPTZ_OID, length, 8);
  for (let i = 0, off = 20; i < length; i++, off += 12) {
    view.setInt32(off, 8);
    view.setBigInt64(off + 4, BigInt(values[i]!.getTime() - PG_EPOCH_MS) * 1000n);
  }
  return buf;
}
