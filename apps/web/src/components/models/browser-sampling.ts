'use client';

// In-browser sampling. TF.js and the sampler are loaded with a dynamic import on first use, so they stay
// out of the server bundle and out of the page's initial JavaScript.

export interface BrowserSampleOptions {
  modelJsonUrl: string;
  weightsUrl: string;
  count: number;
  steps: number;
  sampler: 'DDIM' | 'DDPM';
  eta: number;
  seed: number;
  label: number | null;
  guidance: number | null;
  onStage: (stage: string) => void;
  onProgress: (done: number, total: number) => void;
  signal: AbortSignal;
}

/** Loads the version's weights over HTTP, samples on this device and returns one PNG data URL per image. */
export async function sampleInBrowser(o: BrowserSampleOptions): Promise<string[]> {
  o.onStage('Loading TensorFlow.js…');
  const { loadModelForSampling } = await import('./diffusion-browser.js');
  o.onStage('Downloading the weights…');
  const model = await loadModelForSampling({ modelJson: o.modelJsonUrl, weights: { 'weights.bin': o.weightsUrl } });
  try {
    o.onStage('Sampling…');
    const { pixels, shape } = await model.sample({
      count: o.count,
      steps: o.steps,
      sampler: o.sampler === 'DDIM' ? 'ddim' : 'ddpm',
      eta: o.eta,
      seed: o.seed,
      label: o.label,
      guidance: o.guidance,
      onProgress: o.onProgress,
      signal: o.signal,
    });
    return toDataUrls(pixels, shape);
  } finally {
    model.dispose();
  }
}

/** uint8 NHWC (1 or 3 channels) → PNG data URLs through a canvas. */
function toDataUrls(pixels: Uint8Array, [n, h, w, c]: [number, number, number, number]): string[] {
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  const context = canvas.getContext('2d');
  if (!context) throw new Error('This browser cannot draw on a canvas');
  const urls: string[] = [];
  for (let i = 0; i < n; i++) {
    const image = context.createImageData(w, h);
    for (let p = 0; p < w * h; p++) {
      const base = (i * w * h + p) * c;
      const r = pixels[base]!;
      image.data[p * 4] = r;
      image.data[p * 4 + 1] = c === 1 ? r : pixels[base + 1]!;
      image.data[p * 4 + 2] = c === 1 ? r : pixels[base + 2]!;
      image.data[p * 4 + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    urls.push(canvas.toDataURL('image/png'));
  }
  return urls;
}
