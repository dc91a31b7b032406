import { PRESET_NAMES } from '@dapple/models/config';
import { describe, expect, it } from 'vitest';
import {
  conditioningOf,
  DdpmRunConfigSchema,
  effectiveMicroBatch,
  RUN_LIMITS,
  RunConfigSchema,
  unetConfigFor,
} from './run-config.ts';

describe('RunConfigSchema', () => {
  it('grids and checkpoints come at least five times in a short run; long runs keep 500 / 1000; given values win', () => {
    const short = RunConfigSchema.parse({ preset: 'tiny', steps: 200 });
    expect([short.sampleEvery, short.checkpointEvery]).toEqual([40, 40]);
    const long = RunConfigSchema.parse({ preset: 'tiny', steps: 20_000 });
    expect([long.sampleEvery, long.checkpointEvery]).toEqual([500, 1000]);
    expect(RunConfigSchema.parse({ preset: 'tiny', steps: 3 }).sampleEvery).toBe(1);
    const given = RunConfigSchema.parse({ preset: 'tiny', steps: 200, sampleEvery: 7, checkpointEvery: 300 });
    expect([given.sampleEvery, given.checkpointEvery]).toEqual([7, 300]);
  });

  it('fills defaults and accepts every diffusion preset', () => {
    for (const preset of PRESET_NAMES) {
      const c = RunConfigSchema.parse({ preset, steps: 10 });
      expect(c).toMatchObject({
        preset,
        steps: 10,
        batchSize: 32,
        schedule: 'cosine',
        prediction: 'eps',
        keepCheckpoints: 3,
        model: {},
      });
    }
  });

  it('names the field and the limit', () => {
    const bad = (input: unknown) => {
      const r = RunConfigSchema.safeParse(input);
      expect(r.success).toBe(false);
      const issue = r.error!.issues[0]!;
      return `${issue.path.join('.')}: ${issue.message}`;
    };
    expect(bad({ preset: 'giant', steps: 1 })).toBe('preset: unknown preset "giant": must be one of tiny, small, base');
    expect(bad({ preset: 'tiny', steps: 1, batchSize: RUN_LIMITS.maxBatchSize + 1 })).toBe(
      'batchSize: must be at most 512',
    );
    expect(bad({ preset: 'tiny', steps: 1, batchSize: 8, microBatch: 9 })).toBe(
      'microBatch: must be at most batchSize (8)',
    );
    expect(bad({ preset: 'tiny', steps: 1, model: { depth: 3 } })).toMatch(/^model: Unrecognized key/);
    expect(bad({ preset: 'tiny', steps: 1, unknownKnob: true })).toMatch(/Unrecognized key/);
    expect(bad({ preset: 'tiny', steps: 1, precision: 'bf16' })).toBe(
      'precision: unknown precision "bf16": must be one of fp32, mixed-f16',
    );
  });

  it('takes precision mixed-f16, and leaves it out of configs that did not set it (fp32)', () => {
    expect(RunConfigSchema.parse({ preset: 'tiny', steps: 1, precision: 'mixed-f16' })).toMatchObject({
      precision: 'mixed-f16',
    });
    expect(RunConfigSchema.parse({ preset: 'tiny', steps: 1 })).not.toHaveProperty('precision');
  });

  it('builds the UNet from the preset, the overrides and the dataset channels', () => {
    const c = RunConfigSchema.parse({ preset: 'tiny', steps: 1, model: { resolution: 8, baseChannels: 8, groups: 4 } });
    expect(unetConfigFor(DdpmRunConfigSchema.parse(c), 1)).toMatchObject({
      resolution: 8,
      channels: 1,
      baseChannels: 8,
      groups: 4,
      channelMults: [1, 2],
    });
    expect(effectiveMicroBatch(RunConfigSchema.parse({ preset: 'tiny', steps: 1, batchSize: 128 }))).toBe(32);
  });

  it('class conditioning: numClasses goes into the UNet; a stored config without conditioning is unconditional', () => {
    const cls = DdpmRunConfigSchema.parse({ preset: 'tiny', steps: 1, conditioning: 'class', numClasses: 3 });
    expect(cls.labelDropout).toBe(0.1);
    expect(unetConfigFor(cls, 3).numClasses).toBe(3);
    const old = DdpmRunConfigSchema.parse({ preset: 'tiny', steps: 1 });
    expect(conditioningOf(old)).toBe('none');
    expect(unetConfigFor(old, 3).numClasses).toBeUndefined();
    // The hub fills numClasses in before anything builds the network; a config without it cannot build one.
    expect(() =>
      unetConfigFor(DdpmRunConfigSchema.parse({ preset: 'tiny', steps: 1, conditioning: 'class' }), 3),
    ).toThrow(/needs numClasses/);
    const bad = RunConfigSchema.safeParse({ preset: 'tiny', steps: 1, conditioning: 'none', numClasses: 2 });
    expect(bad.error?.issues[0]).toMatchObject({
      path: ['numClasses'],
      message: 'only class-conditional runs (conditioning: class) have classes',
    });
  });
});
