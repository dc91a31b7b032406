// Must be evaluated before @tensorflow/tfjs-backend-webgpu: it registers itself only if navigator.gpu exists
// when its module runs. Node 20 has no global navigator, so give it Dawn's GPU (the `webgpu` package).
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
(globalThis as { navigator?: unknown }).navigator = { gpu: create([]) };
