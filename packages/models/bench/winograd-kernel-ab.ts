/**
 * Raw A/B of two builds of the F(4×4, 3×3) Winograd kernels (conv-kernels.wasm.ts of two snapshots of this package):
 * both modules are instantiated on one wasm memory and called in alternation on the same buffers, without TF.js, so
 * that both see the same load on a shared machine; CPU ms per call (10th percentile of 2·REPS), one JSON line per
 * shape with the load average. `A` runs winograd4FilterGrad with its single-sample bands of 16 tiles (the kernel
 * before multi-sample bands ignores the extra argument), `B` with bands of DW_TILES (32) tiles as wasm-conv.ts sizes
 * them; the forward takes the same arguments on both sides (a check on the noise when its kernel did not change).
 * `filter` is winograd4Filter, the forward's filter transform (paid once per conv and step, whatever the batch).
 * Usage: node --no-liftoff --import tsx bench/winograd-kernel-ab.ts <A conv-kernels.wasm.ts> <B conv-kernels.wasm.ts>
 * env SHAPES=BxHxWxCxN,…  REPS=40  DW_TILES=32
 */
import { loadavg } from 'node:os';
import { WINOGRAD4_PLANE_PAD } from '../src/nn/wasm-conv.ts';

interface Kernels {
  winograd4(...args: number[]): void;
  winograd4FilterGrad(...args: number[]): void;
  winograd4Filter(...args: number[]): void;
}

const [aPath, bPath] = process.argv.slice(2);
if (!aPath || !bPath) throw new Error('usage: winograd-kernel-ab.ts <A conv-kernels.wasm.ts> <B conv-kernels.wasm.ts>');
const memory = new WebAssembly.Memory({ initial: 16384 }); // 1 GiB
async function instantiate(path: string): Promise<Kernels> {
  const { CONV_KERNELS_WASM_BASE64 } = (await import(path)) as { CONV_KERNELS_WASM_BASE64: string };
  const source = Buffer.from(CONV_KERNELS_WASM_BASE64, 'base64');
  const { instance } = await WebAssembly.instantiate(source, { env: { memory } });
  return instance.exports as unknown as Kernels;
}
const a = await instantiate(aPath);
const b = await instantiate(bPath);
const f32 = new Float32Array(memory.buffer);
let top = 1024;
function alloc(n: number): number {
  const p = top;
  top += (n * 4 + 63) & ~63;
  for (let i = 0; i < n; i++) f32[p / 4 + i] = Math.random() - 0.5;
  return p;
}
/** As winogradBandRows in wasm-conv.ts. */
function bandRows(tileRows: number, tilesPerRow: number, tiles: number): number {
  let r = Math.max(1, Math.min(tileRows, Math.floor(tiles / tilesPerRow)));
  while (tileRows % r) r--;
  return r;
}
function cpuMs(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}
const reps = Number(process.env['REPS'] ?? 40);
const dwTiles = Number(process.env['DW_TILES'] ?? 32);
for (const s of (process.env['SHAPES'] ?? '32x32x32x32x32,32x16x16x64x64,32x8x8x64x64,32x32x32x96x32').split(',')) {
  top = 1024;
  const [B, H, W, C, N] = s.split('x').map(Number) as [number, number, number, number, number];
  const x = alloc(B * H * W * C);
  const dy = alloc(B * H * W * N);
  // Planes padded as wasm-conv.ts allocates them (a build from before the padding uses less).
  const u = alloc(36 * (C * N + WINOGRAD4_PLANE_PAD));
  const bias = alloc(N);
  const y = alloc(B * H * W * N);
  const du = alloc(36 * (C * N + WINOGRAD4_PLANE_PAD));
  const f = alloc(9 * C * N);
  const T = W / 4;
  const r = bandRows(H / 4, T, 16);
  const rd = bandRows(H / 4, T, dwTiles);
  const sd = rd === H / 4 ? Math.max(1, Math.min(B, Math.floor(dwTiles / (rd * T)))) : 1;
  const tiles = Math.max(r, rd * sd) * T;
  const vbuf = alloc(36 * (tiles * C + 16));
  const mbuf = alloc(36 * (tiles * N + 16) + 4 * 36);
  const t = {
    ...{ fwdA: [] as number[], fwdB: [] as number[], dwA: [] as number[], dwB: [] as number[] },
    ...{ filterA: [] as number[], filterB: [] as number[] },
  };
  for (let i = 0; i < reps; i++) {
    const order = i % 2 ? (['A', 'B'] as const) : (['B', 'A'] as const);
    for (const side of order) {
      const k = side === 'A' ? a : b;
      t[`fwd${side}`].push(cpuMs(() => k.winograd4(x, u, bias, y, vbuf, mbuf, B, H, W, C, N, r)));
      const [rows, samples] = side === 'A' ? [r, 1] : [rd, sd];
      t[`dw${side}`].push(cpuMs(() => k.winograd4FilterGrad(x, dy, du, vbuf, mbuf, B, H, W, C, N, rows, samples)));
      // Ten calls per sample: one is a few microseconds, below the clock's resolution.
      t[`filter${side}`].push(cpuMs(() => Array.from({ length: 10 }, () => k.winograd4Filter(f, u, C, N))) / 10);
    }
  }
  const q = (v: number[]) => +v.sort((p, w) => p - w)[Math.floor(v.length / 10)]!.toFixed(3);
  const [fwdA, fwdB, dwA, dwB] = [q(t.fwdA), q(t.fwdB), q(t.dwA), q(t.dwB)];
  const [filterA, filterB] = [q(t.filterA), q(t.filterB)];
  console.log(
    JSON.stringify({
      bench: 'wasm.winograd4-kernel-ab',
      shape: s,
      fwdA,
      fwdB,
      fwdAOverB: +(fwdA / fwdB).toFixed(3),
      dwA,
      dwB,
      dwAOverB: +(dwA / dwB).toFixed(3),
      filterA,
      filterB,
      filterAOverB: +(filterA / filterB).toFixed(3),
      dwBandRowsB: rd,
      dwSamplesPerBandB: sd,
      loadavg1: +loadavg()[0]!.toFixed(2),
      ...(process.env['NOTE'] ? { note: process.env['NOTE'] } : {}),
    }),
  );
}
