/**
 * Sample quality after a change to how training draws its randomness (per-image streams, src/diffusion/step-noise.ts):
 * test/learning.test.ts's run (tiny UNet, 400 steps on coloured disks, EMA, DDIM-25 samples, KID under a seeded
 * random-conv extractor) with the trainer's Rng seeded by argv[2] and the same data order for every seed, so
 * seeds differ only in their noise/timestep streams. Run it from two checkouts of this package (before/after)
 * over a few seeds and compare the spread: bench/results/cpu-parallel-2026-12-06-step-noise-kid.jsonl.
 * Usage: tsx bench/step-noise-kid.ts <seed>
 */
import { selectBackend } from '../src/backend.ts';
import { Rng } from '../src/rng.ts';
import { diskLearning } from '../test/disk-learning.ts';
const seed = Number(process.argv[2] ?? 3);
await selectBackend({ prefer: 'wasm' });
const { emaModel, sample, kidTo, train } = diskLearning();
// Same data order for every seed: only the noise/timestep stream varies.
const { lastLoss: last } = await train(new Rng(seed), new Rng(3).fork(1));
const trainedKid = await kidTo(await sample(emaModel));
console.log(JSON.stringify({ dir: process.cwd(), seed, trainedKid, lastLoss: last }));
