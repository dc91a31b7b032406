import { describe, expect, it } from 'vitest';
import { GradientExchange } from './exchange.ts';

describe('GradientExchange', () => {
  it('sums every rank into region 0 in place, chunk by chunk, exactly as a float32 loop in rank order', () => {
    const bucketSizes = [7, 1, 13]; // 21 values: regions are padded to 24, chunks end off a multiple of 4
    const ex = GradientExchange.create({ ranks: 3, bucketSizes });
    expect(ex.simd).toBe(true);
    const expected = bucketSizes.map((n) => new Float32Array(n));
    for (let r = 0; r < 3; r++) {
      bucketSizes.forEach((n, b) => {
        const values = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(r * 100 + b * 10 + i) / 3));
        ex.bucket(r, b).set(values);
        values.forEach((v, i) => (expected[b]![i] = Math.fround(expected[b]![i]! + v)));
      });
    }
    // Each rank sums its own chunk; together they cover every element once.
    const chunks = [0, 1, 2].map((r) => ex.chunk(r));
    expect(chunks[0]![0]).toBe(0);
    expect(chunks[2]![1]).toBe(ex.regionElements);
    for (let r = 1; r < 3; r++) expect(chunks[r]![0]).toBe(chunks[r - 1]![1]);
    for (const [lo, hi] of chunks) ex.reduce(lo, hi);
    bucketSizes.forEach((_, b) => expect(Array.from(ex.bucket(0, b))).toEqual(Array.from(expected[b]!)));
  });

  it('the typed-array loop gives the same bits as the SIMD kernel', () => {
    const make = () => {
      const ex = GradientExchange.create({ ranks: 2, bucketSizes: [1003] });
      for (let r = 0; r < 2; r++) ex.bucket(r, 0).set(Float32Array.from({ length: 1003 }, (_, i) => 1 / (i + 1 + r)));
      return ex;
    };
    const a = make();
    a.reduce(0, a.regionElements);
    const b = make();
    b.reduceJs(0, b.regionElements);
    expect(Array.from(a.bucket(0, 0))).toEqual(Array.from(b.bucket(0, 0)));
  });

  it('is shared memory a worker thread can map, and refuses more than a wasm memory holds', () => {
    const ex = GradientExchange.create({ ranks: 2, bucketSizes: [5] });
    expect(ex.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    const other = GradientExchange.attach(ex.handle);
    other.bucket(1, 0).set([1, 2, 3, 4, 5]);
    expect(Array.from(ex.bucket(1, 0))).toEqual([1, 2, 3, 4, 5]);
    expect(() => GradientExchange.create({ ranks: 40, bucketSizes: [35_746_307] })).toThrow(
      /40 CPU workers × 35746307 parameters need 5\.3 GiB .*DAPPLE_CPU_WORKERS/,
    );
  });
});
