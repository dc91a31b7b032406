import { PRESET_NAMES } from '@dapple/diffusion/presets';
import { describe, expect, it } from 'vitest';
import { effectiveMicroBatch, RUN_LIMITS, RunConfigSchema, unetConfigFor } from './run-config.ts';

describe('RunConfigSchema', () => {
  it('fills defaults and accepts every diffusion preset', () => {
    for (const preset of PRESET_NAMES) {
      const c = RunConfigSchema.parse({ preset, steps: 10 });
      expect(c).toMatchObject({ preset, steps: 10, batchSize: 32, schedule: 'cosine', prediction: 'eps', keepCheckpoints: 3, model: {} });
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
    expect(bad({ preset: 'tiny', steps: 1, batchSize: RUN_LIMITS.maxBatchSize + 1 })).toBe('batchSize: must be at most 512');
    expect(bad({ preset: 'tiny', steps: 1, batchSize: 8, microBatch: 9 })).toBe('microBatch: must be at most batchSize (8)');
    expect(bad({ preset: 'tiny', steps: 1, model: { depth: 3 } })).toMatch(/^model: Unrecognized key/);
    expect(bad({ preset: 'tiny', steps: 1, unknownKnob: true })).toMatch(/Unrecognized key/);
  });

  it('builds the UNet from the preset, the overrides and the dataset channels', () => {
    const c = RunConfigSchema.parse({ preset: 'tiny', steps: 1, model: { resolution: 8, baseChannels: 8, groups: 4 } });
    expect(unetConfigFor(c, 1)).toMatchObject({ resolution: 8, channels: 1, baseChannels: 8, groups: 4, channelMults: [1, 2] });
    expect(effectiveMicroBatch(RunConfigSchema.parse({ preset: 'tiny', steps: 1, batchSize: 128 }))).toBe(32);
  });
});
