/**
 * The trainer's precision settings (no TF.js import: the run-config schema reads them through
 * `@dapple/models/config`). 'fp32' runs the f32 path everywhere; 'mixed-f16' stages our GEMM tiles in f16 on a
 * webgpu device with shader-f16 (products and sums stay f32) and scales the loss dynamically (optim/loss-scale.ts).
 */
export const PRECISIONS = ['fp32', 'mixed-f16'] as const;
export type Precision = (typeof PRECISIONS)[number];
