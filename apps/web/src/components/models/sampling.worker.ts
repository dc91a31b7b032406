// The playground's in-browser sampler, off the main thread: TF.js, the weights and every denoising step live here,
// so the page keeps answering while it samples. Cancel is `worker.terminate()` from the page (it frees GPU memory
// at once and needs no cooperation from a kernel that is running).
import { loadModelForSampling } from './diffusion-browser.js';
import { chooseBackend } from './worker-backend';
import type { ImageSlice, SliceMessage, StartMessage, WorkerMessage } from './sampling-protocol';

interface WorkerScope {
  onmessage: ((event: MessageEvent<StartMessage | SliceMessage>) => void) | null;
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;
const post = (message: WorkerMessage, transfer: Transferable[] = []) => scope.postMessage(message, transfer);
// Accelerated backends compile their kernels on first use: time a second step, not the first.
const WARM_UP_FIRST = new Set(['webgpu', 'webgl']);

// The first worker learns its slice only after it reported its backend (see StartMessage.slice).
let receiveSlice: (slice: ImageSlice) => void = () => undefined;
const sliceArrived = new Promise<ImageSlice>((resolve) => (receiveSlice = resolve));

async function run(start: StartMessage): Promise<void> {
  post({ type: 'stage', stage: 'Starting TensorFlow.js…' });
  const backend = await chooseBackend(start.backend, start.wasmPaths);
  post({ type: 'backend', backend });
  post({ type: 'stage', stage: 'Downloading the weights…' });
  const model = await loadModelForSampling({
    modelJson: start.modelJsonUrl,
    weights: { 'weights.bin': start.weightsUrl },
  });
  try {
    const r = start.request;
    const slice = start.slice ?? (await sliceArrived);
    const common = {
      sampler: r.sampler,
      eta: r.eta,
      seed: r.seed,
      label: r.label,
      guidance: r.guidance,
      firstImageIndex: slice.firstImageIndex,
      ...(r.temperature !== null ? { temperature: r.temperature } : {}),
    };
    if (slice.timeStep) {
      post({ type: 'stage', stage: 'Timing one step…' });
      // The probe runs this worker's batch for one step: the other workers run theirs (no larger) at the same
      // time on their own cores, so its cost per step is what the whole request pays per step.
      const probe = () => model.sample({ ...common, count: slice.count, steps: 1 });
      if (WARM_UP_FIRST.has(backend.name)) await probe();
      const t0 = performance.now();
      await probe();
      const stepSeconds = (performance.now() - t0) / 1000;
      post({ type: 'estimate', seconds: stepSeconds * r.steps, stepSeconds });
    }
    post({ type: 'stage', stage: 'Sampling…' });
    const { pixels, shape } = await model.sample({
      ...common,
      count: slice.count,
      steps: r.steps,
      onProgress: (done, total) => post({ type: 'progress', done, total }),
    });
    post({ type: 'done', pixels, shape }, [pixels.buffer]);
  } finally {
    model.dispose();
  }
}

scope.onmessage = (event) => {
  if (event.data.type === 'slice') return receiveSlice(event.data);
  if (event.data.type !== 'start') return;
  run(event.data).catch((err: unknown) =>
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) }),
  );
};
