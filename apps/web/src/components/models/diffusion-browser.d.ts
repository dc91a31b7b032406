// The part of @dapple/models/browser the playground uses (see diffusion-browser.js for why not the source).
export interface BrowserModelSampler {
  sample(request: {
    count: number;
    steps: number;
    sampler: 'dpmpp-2m-sde' | 'dpmpp-2m' | 'ddim' | 'ddpm';
    eta?: number;
    seed: number;
    label?: number | null;
    guidance?: number | null;
    /** Position of the first image in a request split over workers: image k depends only on (seed, k). */
    firstImageIndex?: number;
    temperature?: number;
    onProgress?: (done: number, total: number) => void;
    signal?: AbortSignal;
  }): Promise<{ pixels: Uint8Array; shape: [number, number, number, number] }>;
  dispose(): void;
}

export function loadModelForSampling(urls: {
  modelJson: string;
  weights?: Record<string, string>;
}): Promise<BrowserModelSampler>;
