import type { UNetConfig } from './unet.ts';

/**
 * Parameter count of createUNet(config) computed arithmetically, without allocating tensors
 * (a `base` model is 35.7M floats). Kept in step with unet.ts by a test that compares both.
 */
export function countUNetParams(c: UNetConfig): number {
  const conv = (cin: number, cout: number, k: number) => k * k * cin * cout + cout;
  const dense = (cin: number, cout: number, bias = true) => cin * cout + (bias ? cout : 0);
  const norm = (ch: number) => 2 * ch;
  const tembDim = c.baseChannels * 4;
  const res = (cin: number, cout: number) =>
    norm(cin) +
    conv(cin, cout, 3) +
    dense(tembDim, c.scaleShiftNorm ? 2 * cout : cout) +
    norm(cout) +
    conv(cout, cout, 3) +
    (cin !== cout ? conv(cin, cout, 1) : 0);
  const attn = (ch: number) => norm(ch) + 4 * dense(ch, ch);
  const attnAt = new Set(c.attentionResolutions);

  let n = dense(c.baseChannels, tembDim) + dense(tembDim, tembDim) + conv(c.channels, c.baseChannels, 3);
  if (c.numClasses !== undefined) n += dense(c.numClasses + 1, tembDim, false);
  const skips = [c.baseChannels];
  let cin = c.baseChannels;
  let r = c.resolution;
  c.channelMults.forEach((m, level) => {
    for (let j = 0; j < c.numResBlocks; j++) {
      n += res(cin, c.baseChannels * m) + (attnAt.has(r) ? attn(c.baseChannels * m) : 0);
      cin = c.baseChannels * m;
      skips.push(cin);
    }
    if (level !== c.channelMults.length - 1) {
      n += conv(cin, cin, 3);
      skips.push(cin);
      r /= 2;
    }
  });
  n += 2 * res(cin, cin) + attn(cin);
  for (let level = c.channelMults.length - 1; level >= 0; level--) {
    const cout = c.baseChannels * c.channelMults[level]!;
    for (let j = 0; j < c.numResBlocks + 1; j++) {
      n += res(cin + skips.pop()!, cout) + (attnAt.has(r) ? attn(cout) : 0);
      cin = cout;
    }
    if (level !== 0) {
      n += conv(cin, cin, 3);
      r *= 2;
    }
  }
  return n + norm(cin) + conv(cin, c.learnSigma ? 2 * c.channels : c.channels, 3);
}
