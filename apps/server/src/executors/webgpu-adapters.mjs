// Prints Dawn's list of WebGPU adapters (every API, software ones included) and exits: run by gpu-slots.ts in a
// child process, so the hub never loads a GPU driver. Asking for an adapter name that cannot exist makes Dawn
// (the `webgpu` package) throw with the list of what it found, as the package's README documents.
import { create } from 'webgpu';

try {
  await create(['adapter=\u0001dapple-list-adapters']).requestAdapter();
} catch (err) {
  process.stdout.write(`${err instanceof Error ? err.message : String(err)}\n`);
}
process.exit(0);
