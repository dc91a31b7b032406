import * as tf from '@tensorflow/tfjs';
import { CONV_KERNELS_WASM_BASE64 } from './wasm/conv-kernels.wasm.ts';
import { heapModule, type HeapModule, type WasmBackendLike } from './wasm/heap-module.ts';

/**
 * Convolution kernels of our own for the wasm backend: wasm SIMD functions (wasm/conv-kernels.wat) that run
 * on the backend's heap (wasm/heap-module.ts).
 *
 * - Filter and bias gradients. tfjs-backend-wasm has no Conv2DBackpropFilter, and every way of getting dW
 *   out of its XNNPACK kernels costs copies around the GEMM: a matMul of k² shifted windows of the transposed
 *   input with dy (conv.ts, the path off wasm) writes the k²-fold window matrix, transposes and pads both
 *   operands, and has XNNPACK pack all of dy as GEMM weights on every call; that made dW 1.4–1.8× a forward
 *   conv of the same shape. The kernel reads x and dy where they are and skips the zero padding: 0.63–0.70×
 *   XNNPACK's forward conv of the same shape (bench/dw-micro.ts).
 * - A stride-1 conv that reads its input unpadded, used for the forward 3×3 convs and the input gradient (a
 *   conv of dy with the flipped filter, which flipSwap makes in one pass). It measured 0.81–0.93× the backend's
 *   XNNPACK conv on the UNet's shapes when it still took a padded copy of its input.
 *
 * - Winograd F(2×2, 3×3) for 3×3 stride-1 SAME convs, forward (and so the input gradient) and filter gradient:
 *   16 products per 2×2 outputs and channel pair where the direct kernels take 36. The direct kernels already
 *   ran at 80–90% of what this machine's 128-bit SIMD can multiply and add (27 GMAC/s on one core), so fewer
 *   products was the way left to go faster. Float32 throughout, but the transforms add and halve, so the sums
 *   round differently from the direct kernels' (relative error ~1e-6, tests allow 1e-5); setWasmWinograd(false)
 *   goes back to the direct kernels. Used where the shapes fit (wasmWinogradFits): even sizes, widths in
 *   eights, channels in fours (input side) and eights (output side), so every 3×3 stride-1 conv of the UNets
 *   but the RGB stem and output convs.
 * - Winograd F(4×4, 3×3) where the sizes are in fours (32², 16² and 8² images): 36 products per 4×4 outputs,
 *   2.25 per output where F(2×2) takes 4 and the direct conv 9, and its transforms cost less per output too.
 *   Its transforms scale by up to 8 and 1/24, so it rounds further from the direct sums: up to 8.8e-6 relative
 *   on 128-channel sums against F(2×2)'s 1.1e-6 (tests allow 3e-5 and 1e-5). setWasmWinograd4(false) keeps
 *   F(2×2). The filter transforms (G f Gᵀ and, for dW, Gᵀ dU G) run in wasm too: in JS they took 11 ms per
 *   128×64 filter, more than the conv.
 *
 * The direct kernels need channel counts in multiples of 4 (filter gradient, input side) or 8 (output side),
 * and the conv output widths in multiples of 4: the filter gradient zero-pads other channel counts (the RGB
 * stem and output convs); the conv is used only where its shapes fit (wasmConvFits).
 */

const FILTER_GRAD = 'DappleConvFilterGrad';
const PADDED_CONV = 'DappleConvPadded';
const FLIP_SWAP = 'DappleConvFlipSwap';
const WINOGRAD_CONV = 'DappleConvWinograd';
const WINOGRAD_FILTER_GRAD = 'DappleConvWinogradFilterGrad';
const WINOGRAD4_CONV = 'DappleConvWinograd4';
const WINOGRAD4_FILTER_GRAD = 'DappleConvWinograd4FilterGrad';
/**
 * Floats (one cache line) by which each of the 36 planes of F(4×4, 3×3)'s transformed filter u and its gradient dU
 * is longer than its C·N values: C·N is a power of two in every UNet conv, and unpadded planes all start in one L1
 * set, so the transforms' 36 accesses per loop step evicted each other (winograd4Filter ran ~9× slower). The
 * kernels in wasm/conv-kernels.wat step from plane to plane by C·N·4 + 64 bytes: this pad, in bytes; change both.
 */
export const WINOGRAD4_PLANE_PAD = 16;

/** Winograd F(2×2, 3×3)'s filter transform G (4×3). */
const G = [
  [1, 0, 0],
  [0.5, 0.5, 0.5],
  [0.5, -0.5, 0.5],
  [0, 0, 1],
] as const;

/**
 * dW[a, b, c, n] = (Gᵀ dU[·, ·, c, n] G)[a, b]: the filter gradient from its Winograd-space form dU [16, C, N]
 * (winogradFilterGrad), the transpose of winogradFilter's transform. G's zeros skipped, one pass over dU.
 */
function winogradFilterGradFromU(du: Float32Array, cn: number, dw: Float32Array): void {
  for (let k = 0; k < cn; k++) {
    for (let i = 0; i < 4; i++) {
      const u0 = du[4 * i * cn + k]!;
      const u1 = du[(4 * i + 1) * cn + k]!;
      const u2 = du[(4 * i + 2) * cn + k]!;
      const u3 = du[(4 * i + 3) * cn + k]!;
      // (dU[i, ·] G)[b] for the tile's row i, then dW[a, b] += G[i, a] · that
      const b0 = u0 + 0.5 * (u1 + u2);
      const b1 = 0.5 * (u1 - u2);
      const b2 = 0.5 * (u1 + u2) + u3;
      if (i === 0) {
        dw[k] = b0;
        dw[cn + k] = b1;
        dw[2 * cn + k] = b2;
        dw[3 * cn + k] = 0;
        dw[4 * cn + k] = 0;
        dw[5 * cn + k] = 0;
        dw[6 * cn + k] = 0;
        dw[7 * cn + k] = 0;
        dw[8 * cn + k] = 0;
      } else if (i === 1 || i === 2) {
        const s = i === 1 ? 0.5 : -0.5;
        dw[k] = dw[k]! + 0.5 * b0;
        dw[cn + k] = dw[cn + k]! + 0.5 * b1;
        dw[2 * cn + k] = dw[2 * cn + k]! + 0.5 * b2;
        dw[3 * cn + k] = dw[3 * cn + k]! + s * b0;
        dw[4 * cn + k] = dw[4 * cn + k]! + s * b1;
        dw[5 * cn + k] = dw[5 * cn + k]! + s * b2;
        dw[6 * cn + k] = dw[6 * cn + k]! + 0.5 * b0;
        dw[7 * cn + k] = dw[7 * cn + k]! + 0.5 * b1;
        dw[8 * cn + k] = dw[8 * cn + k]! + 0.5 * b2;
      } else {
        dw[6 * cn + k] = dw[6 * cn + k]! + b0;
        dw[7 * cn + k] = dw[7 * cn + k]! + b1;
        dw[8 * cn + k] = dw[8 * cn + k]! + b2;
      }
    }
  }
}

/**
 * Tile rows per band of the winograd kernel: at least 16 tiles per pass of its matrix products where the image
 * allows (a row of an 8×8 or 16×16 image has only 4 or 8), and a divisor of the image's tile rows. Under the
 * load of a shared machine 16 and 32 tiles per pass did not measure apart (bench/conv-micro.ts).
 */
function winogradBandRows(tileRows: number, tilesPerRow: number, tiles = 16): number {
  let r = Math.max(1, Math.min(tileRows, Math.floor(tiles / tilesPerRow)));
  while (tileRows % r !== 0) r--;
  return r;
}

/**
 * Tiles per band of the F(4×4) filter gradient, whose product passes load and store their dU block once per band
 * (the forward's run over C per block instead): 32 where the images allow, by taking several samples per band on
 * small images. An 8×8 image alone has 4 tiles; 32 made its filter gradient 1.25–1.3× faster, 64 no faster, and
 * 16×16 and 32×32 images did not measure apart from their 16-tile bands (raw kernel A/B, alternating calls).
 */
const FILTER_GRAD_BAND_TILES = 32;

/**
 * How one Winograd F(tile×tile, 3×3) kernel call walks the image, and its scratch buffers. A band is `rows` tile rows
 * of `samples` samples: 16 tiles, or with `multiSampleBands` (the F(4×4) filter gradient only) FILTER_GRAD_BAND_TILES,
 * reached by taking several samples per band when one whole image has fewer tiles. vbuf holds a band's transformed
 * inputs and mbuf its products, each (tile + 2)² points per tile plus the padding the kernel's SIMD blocks read past
 * their end.
 */
function winogradScratch(
  backend: WasmBackendLike,
  tile: 2 | 4,
  [b, h, w, c, n]: [number, number, number, number, number],
  multiSampleBands = false,
): { rows: number; samples: number; vbuf: tf.TensorInfo; mbuf: tf.TensorInfo } {
  const points = (tile + 2) ** 2;
  const tilesPerRow = w / tile;
  const bandTiles = multiSampleBands ? FILTER_GRAD_BAND_TILES : 16;
  const rows = winogradBandRows(h / tile, tilesPerRow, bandTiles);
  // Whole images that still leave the band short of bandTiles: several samples per band.
  const whole = multiSampleBands && rows === h / tile;
  const samples = whole ? Math.max(1, Math.min(b, Math.floor(bandTiles / (rows * tilesPerRow)))) : 1;
  const tiles = samples * rows * tilesPerRow;
  return {
    rows,
    samples,
    vbuf: backend.makeOutput([points * (tiles * c + 16)], 'float32'),
    mbuf: backend.makeOutput([points * (tiles * n + 16) + 4 * points], 'float32'),
  };
}

/**
 * u[ξ = 4i + j, n/8, c, n % 8] = (G f[·, ·, c, n] Gᵀ)[i, j]: the 3×3 filter f [3, 3, C, N] transformed for
 * F(2×2, 3×3) and packed in blocks of 8 output channels, the layout the winograd kernel reads.
 */
function winogradFilter(f: Float32Array, c: number, n: number, u: Float32Array): void {
  const t = new Float64Array(12); // G·f for one (c, n): [4, 3]
  for (let ci = 0; ci < c; ci++) {
    for (let ni = 0; ni < n; ni++) {
      for (let i = 0; i < 4; i++) {
        const gi = G[i]!;
        for (let b = 0; b < 3; b++) {
          let acc = 0;
          for (let a = 0; a < 3; a++) acc += gi[a]! * f[((a * 3 + b) * c + ci) * n + ni]!;
          t[i * 3 + b] = acc;
        }
      }
      const block = (ni >> 3) * c * 8 + ci * 8 + (ni & 7);
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          const gj = G[j]!;
          const v = t[i * 3]! * gj[0] + t[i * 3 + 1]! * gj[1] + t[i * 3 + 2]! * gj[2];
          u[(i * 4 + j) * c * n + block] = v;
        }
      }
    }
  }
}

interface ConvKernelExports {
  filterGrad(
    x: number,
    dy: number,
    out: number,
    b: number,
    h: number,
    w: number,
    cin: number,
    ho: number,
    wo: number,
    cout: number,
    k: number,
    s: number,
    padTop: number,
    padLeft: number,
    rowsPerChunk: number,
  ): void;
  colSum(dy: number, out: number, rows: number, cout: number): void;
  conv(
    x: number,
    f: number,
    bias: number,
    y: number,
    scratch: number,
    b: number,
    h: number,
    w: number,
    c: number,
    ho: number,
    wo: number,
    n: number,
    k: number,
    padTop: number,
    padLeft: number,
  ): void;
  flipSwap(w: number, f: number, k2: number, cin: number, cout: number): void;
  winograd(
    x: number,
    u: number,
    bias: number,
    y: number,
    vbuf: number,
    mbuf: number,
    b: number,
    h: number,
    w: number,
    c: number,
    n: number,
    r: number,
  ): void;
  winograd4(
    x: number,
    u: number,
    bias: number,
    y: number,
    vbuf: number,
    mbuf: number,
    b: number,
    h: number,
    w: number,
    c: number,
    n: number,
    r: number,
  ): void;
  /** u [36, N/8, C, 8] with each plane WINOGRAD4_PLANE_PAD floats longer than its data. */
  winograd4Filter(f: number, u: number, c: number, n: number): void;
  winograd4FilterGradFromU(du: number, dw: number, cn: number): void;
  winograd4FilterGrad(
    x: number,
    dy: number,
    du: number,
    vbuf: number,
    mbuf: number,
    b: number,
    h: number,
    w: number,
    c: number,
    n: number,
    r: number,
    s: number,
  ): void;
  winogradFilterGrad(
    x: number,
    dy: number,
    du: number,
    vbuf: number,
    mbuf: number,
    b: number,
    h: number,
    w: number,
    c: number,
    n: number,
    r: number,
  ): void;
}

/**
 * Output rows per block pass of the filter-gradient kernel: as many as keep the chunk's x rows ((R−1)·s + k of
 * them) and dy rows within 32 KB, so they stay in L1 (48 KB here) next to the dW block. On the tiny preset's
 * 16×16 images a block then runs over a whole sample instead of one 16-pixel row.
 */
function filterGradRowsPerChunk(
  w: number,
  cin: number,
  wo: number,
  cout: number,
  k: number,
  stride: number,
  ho: number,
): number {
  const xRow = w * cin * 4;
  const dyRow = wo * cout * 4;
  const budget = 32 * 1024;
  const rows = Math.floor((budget - (k - stride) * xRow) / (stride * xRow + dyRow));
  return Math.max(1, Math.min(ho, rows));
}

const convKernels: HeapModule<ConvKernelExports> = heapModule<ConvKernelExports>(CONV_KERNELS_WASM_BASE64, {
  [FILTER_GRAD]: (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const dy = args.inputs['dy'] as tf.TensorInfo;
    const { k, stride, padTop, padLeft } = args.attrs as unknown as {
      k: number;
      stride: number;
      padTop: number;
      padLeft: number;
    };
    const { exports, ptr, zeros } = convKernels.context(args);
    const [b, h, w, cin] = x.shape as [number, number, number, number];
    const [, ho, wo, cout] = dy.shape as [number, number, number, number];
    const dw = zeros([k, k, cin, cout]);
    const db = zeros([cout]);
    exports.filterGrad(
      ptr(x),
      ptr(dy),
      ptr(dw),
      b,
      h,
      w,
      cin,
      ho,
      wo,
      cout,
      k,
      stride,
      padTop,
      padLeft,
      filterGradRowsPerChunk(w, cin, wo, cout, k, stride, ho),
    );
    exports.colSum(ptr(dy), ptr(db), b * ho * wo, cout);
    return [dw, db];
  },
  [PADDED_CONV]: (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const f = args.inputs['f'] as tf.TensorInfo;
    const bias = args.inputs['bias'];
    const { pad } = args.attrs as unknown as { pad: [[number, number], [number, number]] };
    const { exports, backend, ptr } = convKernels.context(args);
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const [k, , , n] = f.shape as [number, number, number, number];
    const [ho, wo] = [h + pad[0][0] + pad[0][1] - k + 1, w + pad[1][0] + pad[1][1] - k + 1];
    const y = backend.makeOutput([b, ho, wo, n], 'float32');
    const scratch = backend.makeOutput([k * (k + 3) * c], 'float32');
    exports.conv(
      ptr(x),
      ptr(f),
      bias ? ptr(bias) : 0,
      ptr(y),
      ptr(scratch),
      b,
      h,
      w,
      c,
      ho,
      wo,
      n,
      k,
      pad[0][0],
      pad[1][0],
    );
    backend.disposeData(scratch.dataId);
    return y;
  },
  [WINOGRAD_CONV]: (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const f = args.inputs['f'] as tf.TensorInfo;
    const bias = args.inputs['bias'];
    const { exports, backend, ptr } = convKernels.context(args);
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const n = f.shape[3]!;
    const y = backend.makeOutput([b, h, w, n], 'float32');
    const u = backend.makeOutput([16 * c * n], 'float32');
    const { rows: r, vbuf, mbuf } = winogradScratch(backend, 2, [b, h, w, c, n]);
    // Views taken after the allocations: an allocation can grow (and so replace) the heap's buffer.
    const memory = backend.wasm.asm.memory.buffer;
    winogradFilter(new Float32Array(memory, ptr(f), 9 * c * n), c, n, new Float32Array(memory, ptr(u), 16 * c * n));
    exports.winograd(ptr(x), ptr(u), bias ? ptr(bias) : 0, ptr(y), ptr(vbuf), ptr(mbuf), b, h, w, c, n, r);
    for (const s of [u, vbuf, mbuf]) backend.disposeData(s.dataId);
    return y;
  },
  [WINOGRAD_FILTER_GRAD]: (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const dy = args.inputs['dy'] as tf.TensorInfo;
    const { exports, backend, ptr, zeros } = convKernels.context(args);
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const n = dy.shape[3]!;
    const dw = backend.makeOutput([3, 3, c, n], 'float32');
    const db = zeros([n]);
    const du = zeros([16 * c * n]);
    const { rows: r, vbuf, mbuf } = winogradScratch(backend, 2, [b, h, w, c, n]);
    exports.winogradFilterGrad(ptr(x), ptr(dy), ptr(du), ptr(vbuf), ptr(mbuf), b, h, w, c, n, r);
    exports.colSum(ptr(dy), ptr(db), b * h * w, n);
    const memory = backend.wasm.asm.memory.buffer;
    winogradFilterGradFromU(
      new Float32Array(memory, ptr(du), 16 * c * n),
      c * n,
      new Float32Array(memory, ptr(dw), 9 * c * n),
    );
    for (const s of [du, vbuf, mbuf]) backend.disposeData(s.dataId);
    return [dw, db];
  },
  [WINOGRAD4_CONV]: (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const f = args.inputs['f'] as tf.TensorInfo;
    const bias = args.inputs['bias'];
    const { exports, backend, ptr } = convKernels.context(args);
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const n = f.shape[3]!;
    const y = backend.makeOutput([b, h, w, n], 'float32');
    const u = backend.makeOutput([36 * (c * n + WINOGRAD4_PLANE_PAD)], 'float32');
    const { rows: r, vbuf, mbuf } = winogradScratch(backend, 4, [b, h, w, c, n]);
    exports.winograd4Filter(ptr(f), ptr(u), c, n);
    exports.winograd4(ptr(x), ptr(u), bias ? ptr(bias) : 0, ptr(y), ptr(vbuf), ptr(mbuf), b, h, w, c, n, r);
    for (const s of [u, vbuf, mbuf]) backend.disposeData(s.dataId);
    return y;
  },
  [WINOGRAD4_FILTER_GRAD]: (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    const dy = args.inputs['dy'] as tf.TensorInfo;
    const { exports, backend, ptr, zeros } = convKernels.context(args);
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const n = dy.shape[3]!;
    const dw = backend.makeOutput([3, 3, c, n], 'float32');
    const db = zeros([n]);
    const du = zeros([36 * (c * n + WINOGRAD4_PLANE_PAD)]);
    const { rows: r, samples, vbuf, mbuf } = winogradScratch(backend, 4, [b, h, w, c, n], true);
    exports.winograd4FilterGrad(ptr(x), ptr(dy), ptr(du), ptr(vbuf), ptr(mbuf), b, h, w, c, n, r, samples);
    exports.colSum(ptr(dy), ptr(db), b * h * w, n);
    exports.winograd4FilterGradFromU(ptr(du), ptr(dw), c * n);
    for (const s of [du, vbuf, mbuf]) backend.disposeData(s.dataId);
    return [dw, db];
  },
  [FLIP_SWAP]: (args) => {
    const w = args.inputs['w'] as tf.TensorInfo;
    const { exports, backend, ptr } = convKernels.context(args);
    const [kh, kw, cin, cout] = w.shape as [number, number, number, number];
    const f = backend.makeOutput([kh, kw, cout, cin], 'float32');
    exports.flipSwap(ptr(w), ptr(f), kh * kw, cin, cout);
    return f;
  },
});

/** Whether the wasm conv kernels can run here: the wasm backend is active and this runtime instantiates them. */
export function wasmConvKernelsAvailable(): boolean {
  return convKernels.available();
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/**
 * dW [k,k,Cin,Cout] and db [Cout] of a SAME conv with odd square kernel k and the given stride, from its
 * input x [B,H,W,Cin] and output gradient dy [B,Ho,Wo,Cout]. Call only where wasmConvKernelsAvailable().
 */
export function wasmFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  k: number,
  stride: number,
): { dw: tf.Tensor4D; db: tf.Tensor1D } {
  const [, h, w, cin] = x.shape;
  const cout = dy.shape[3];
  // TF's SAME padding puts the odd pixel after: only the leading pad matters to the kernel.
  const padTop = Math.floor(Math.max((dy.shape[1] - 1) * stride + k - h, 0) / 2);
  const padLeft = Math.floor(Math.max((dy.shape[2] - 1) * stride + k - w, 0) / 2);
  if (k === 3 && stride === 1 && wasmWinogradFits(x.shape, cout)) {
    const kernel = wasmWinograd4Fits(x.shape, cout) ? WINOGRAD4_FILTER_GRAD : WINOGRAD_FILTER_GRAD;
    const [dw, db] = tf.engine().runKernel<[tf.Tensor4D, tf.Tensor1D]>(kernel, { x, dy }, {});
    return { dw, db };
  }
  return tf.tidy(() => {
    const cinP = roundUp(cin, 4);
    const coutP = roundUp(cout, 8);
    const xP =
      cinP === cin
        ? x
        : tf.pad(x, [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, cinP - cin],
          ]);
    const dyP =
      coutP === cout
        ? dy
        : tf.pad(dy, [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, coutP - cout],
          ]);
    const attrs = { k, stride, padTop, padLeft } as unknown as tf.NamedAttrMap;
    let [dw, db] = tf.engine().runKernel<[tf.Tensor4D, tf.Tensor1D]>(FILTER_GRAD, { x: xP, dy: dyP }, attrs);
    if (cinP !== cin || coutP !== cout) {
      dw = tf.slice(dw, [0, 0, 0, 0], [k, k, cin, cout]);
      db = tf.slice(db, [0], [cout]);
    }
    return { dw, db };
  });
}

/** Whether wasmConv can compute a conv with this output [B, Ho, Wo, N] here (the kernels run and the shape fits their blocks). */
export function wasmConvFits(outShape: readonly number[]): boolean {
  return outShape[2]! > 0 && outShape[2]! % 4 === 0 && outShape[3]! % 8 === 0 && convKernels.available();
}

/**
 * y = conv(x, f) + bias, stride 1, with x zero-padded by `pad` ([before, after] per spatial axis; SAME for an
 * odd k is [[p, p], [p, p]], p = (k−1)/2), the padding never materialised. Call only where wasmConvFits(y.shape).
 */
export function wasmConv(
  x: tf.Tensor4D,
  f: tf.Tensor4D,
  pad: [[number, number], [number, number]],
  bias?: tf.Tensor1D,
): tf.Tensor4D {
  const inputs: tf.NamedTensorMap = bias ? { x, f, bias } : { x, f };
  return tf.engine().runKernel<tf.Tensor4D>(PADDED_CONV, inputs, { pad });
}

/**
 * Whether wasmWinogradConv can compute a 3×3 SAME conv of x [B, H, W, C] to N channels here: even sizes
 * with the tiles of a band (W/2) in fours, channels in fours (input) and eights (output).
 */
export function wasmWinogradFits(xShape: readonly number[], n: number): boolean {
  const [, h, w, c] = xShape as [number, number, number, number];
  return winograd && h % 2 === 0 && w % 8 === 0 && c % 4 === 0 && n % 8 === 0 && convKernels.available();
}

/**
 * Whether the F(4×4, 3×3) kernels take a 3×3 SAME conv of x [B, H, W, C] to N channels (else F(2×2, 3×3)):
 * sizes in fours, a band's tiles (winogradBandRows) in fours, so 32², 16² and 8² images but not 4².
 */
export function wasmWinograd4Fits(xShape: readonly number[], n: number): boolean {
  const [, h, w] = xShape as [number, number, number, number];
  if (!winograd4 || h % 4 !== 0 || w % 4 !== 0 || !wasmWinogradFits(xShape, n)) return false;
  return (winogradBandRows(h / 4, w / 4) * (w / 4)) % 4 === 0;
}

let winograd = true;
let winograd4 = true;

/**
 * Whether the Winograd convs use F(4×4, 3×3) where it fits (the default) or only F(2×2, 3×3), which takes 1.8×
 * the products but rounds closer to the direct conv (for comparisons and tests).
 */
export function setWasmWinograd4(on: boolean): void {
  winograd4 = on;
}

/**
 * Whether the 3×3 stride-1 convs (forward and input gradient) use Winograd where it fits (the default) or the
 * direct conv, whose sums are the plain Σ over taps and channels (no transforms; for comparisons and tests).
 */
export function setWasmWinograd(on: boolean): void {
  winograd = on;
}

/**
 * y = conv(x, f) + bias for a 3×3 stride-1 SAME conv, by Winograd's F(2×2, 3×3): 16 products per 2×2 outputs
 * and (c, n) pair where the direct conv takes 36 (see the kernel in wasm/conv-kernels.wat). Float32 throughout;
 * it rounds differently from the direct conv (the transforms add and halve). Call only where
 * wasmWinogradFits(x.shape, f.shape[3]).
 */
export function wasmWinogradConv(x: tf.Tensor4D, f: tf.Tensor4D, bias?: tf.Tensor1D): tf.Tensor4D {
  const inputs: tf.NamedTensorMap = bias ? { x, f, bias } : { x, f };
  const kernel = wasmWinograd4Fits(x.shape, f.shape[3]) ? WINOGRAD4_CONV : WINOGRAD_CONV;
  return tf.engine().runKernel<tf.Tensor4D>(kernel, inputs, {});
}

/**
 * W [k,k,Cin,Cout] → W' [k,k,Cout,Cin] with W'[i,j] = W[k−1−i, k−1−j]ᵀ: the filter whose conv with dy is the
 * input gradient. One pass here; as TF.js ops (a matMul with an anti-identity, then a transpose) it cost
 * 17 ms per 3×3×256×256 filter on the base preset, mostly XNNPACK packing the filter as GEMM weights.
 */
export function wasmFlipSwap(w: tf.Tensor4D): tf.Tensor4D {
  return tf.engine().runKernel<tf.Tensor4D>(FLIP_SWAP, { w });
}
