/**
 * What both architectures' run configs share (run-config.ts: DDPM and the union; run-config-glow.ts: Glow):
 * the bounds that keep a run from exhausting the trainer, the conditioning options and the integer field.
 */
import { z } from 'zod';

/** Bounds that keep a run from exhausting the trainer (the wasm heap is capped at 4 GB). */
export const RUN_LIMITS = {
  maxBatchSize: 512,
  maxMicroBatch: 128,
  maxSteps: 10_000_000,
  maxSampleCount: 64,
  maxSampleSteps: 1000,
  maxKeepCheckpoints: 100,
  maxTimesteps: 100_000,
  maxClasses: 10_000,
} as const;

/**
 * `none`: unconditional. `class`: the UNet takes the dataset's folder labels (label index numClasses is the
 * "no class" label used for classifier-free guidance). Left out of startRun's input, the hub picks: the base
 * model's conditioning when fine-tuning, else `class` when the dataset version has ≥ 2 labels, else `none`,
 * and stores its choice, so a stored config always says. A stored config without it (older runs) is `none`.
 */
export const CONDITIONINGS = ['none', 'class'] as const;
export type Conditioning = (typeof CONDITIONINGS)[number];

export const int = (min: number, max: number) =>
  z.number().int(`must be an integer`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

export const conditioningField = () =>
  z
    .enum(CONDITIONINGS, {
      error: (issue) => `unknown conditioning ${JSON.stringify(issue.input)}: must be none or class`,
    })
    .optional();

/** Held-out images at most: they are scored on the trainer in batches of 32, every heldOutEvery steps. */
export const MAX_HELD_OUT_IMAGES = 1024;

/**
 * The held-out fields both architectures share: every run on a dataset version holds out the same images
 * (picked from the version's shard hashes), so a Glow run's bits/dim and a DDPM run's variational bound are
 * numbers on the same images.
 */
export const heldOutFields = () => ({
  /** Held-out bits/dim every N steps (and at the last step) on the fixed held-out split. */
  heldOutEvery: int(1, RUN_LIMITS.maxSteps).default(250),
  /**
   * Size of the held-out split: images the run never trains on, picked once per dataset version (the same
   * images for every run on it, so runs compare) and recorded in the run's log and checkpoints. 0: none.
   */
  heldOutImages: int(0, MAX_HELD_OUT_IMAGES).default(128),
});
