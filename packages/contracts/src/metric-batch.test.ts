import { describe, expect, it } from 'vitest';
import { decodeMetricBatch, encodeMetricBatch, MetricBatchFormatError } from './metric-batch.ts';

describe('metric batch wire format', () => {
  it('round-trips keys, steps and values exactly, NaN and ±Infinity included', () => {
    const points = [
      { key: 'loss', step: 0, value: 0.5 },
      { key: 'lr', step: 0, value: 1e-4 },
      { key: 'loss', step: 1, value: Number.NaN },
      { key: 'grad/norm', step: 2 ** 31 - 1, value: -Infinity },
      { key: 'loss', step: 2, value: Infinity },
      { key: 'lr', step: 7, value: 5e-324 },
    ];
    const batch = decodeMetricBatch(encodeMetricBatch(points));
    expect(batch.keys).toEqual(['loss', 'lr', 'grad/norm']);
    expect(
      Array.from(batch.keyIndex, (k, i) => ({ key: batch.keys[k], step: batch.steps[i], value: batch.values[i] })),
    ).toEqual(points);
  });

  it('decodes a body that does not start at offset 0 of its buffer (a Buffer slice from the HTTP server)', () => {
    const bytes = encodeMetricBatch([{ key: 'loss', step: 3, value: 0.25 }]);
    const framed = new Uint8Array(bytes.length + 5);
    framed.set(bytes, 5);
    const batch = decodeMetricBatch(framed.subarray(5));
    expect([batch.keys, [...batch.steps], [...batch.values]]).toEqual([['loss'], [3], [0.25]]);
  });

  it('names what is wrong with a malformed body', () => {
    const good = encodeMetricBatch([
      { key: 'loss', step: 1, value: 1 },
      { key: 'lr', step: 1, value: 2 },
    ]);
    const fail = (bytes: Uint8Array) => {
      try {
        decodeMetricBatch(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(MetricBatchFormatError);
        return (err as MetricBatchFormatError).message;
      }
      throw new Error('decoded a malformed body');
    };
    expect(fail(new TextEncoder().encode('{"points":[]}'))).toMatch(
      /^body: not a application\/vnd\.dapple\.metric-batch body/,
    );
    expect(fail(good.subarray(0, good.length - 1))).toMatch(/^body: \d+ bytes, expected/);
    const tooMany = good.slice();
    new DataView(tooMany.buffer).setUint32(4, 1001, true);
    expect(fail(tooMany)).toMatch(/^points: at most 1000 points per batch, got 1001/);
    const badIndex = good.slice();
    // keys: 1+4 ("loss") + 1+2 ("lr") after the 12-byte header; then the u16 key indexes.
    new DataView(badIndex.buffer).setUint16(12 + 5 + 3 + 2, 2, true);
    expect(fail(badIndex)).toMatch(/^keyIndex\[1\]: 2 is not an index into the 2 keys/);
  });

  it('refuses to encode what the format cannot carry', () => {
    expect(() => encodeMetricBatch([{ key: 'lösung', step: 0, value: 1 }])).toThrow(/not a short ASCII string/);
    expect(() => encodeMetricBatch([{ key: 'loss', step: -1, value: 1 }])).toThrow(/points\[0\]\.step: -1/);
  });
});
