import { GLOW_LIMITS, glowPresetConfig } from '@dapple/models/config';
import { describe, expect, it } from 'vitest';
import { DDPM_ONLY_FIELDS, glowConfigFor, GlowRunConfigSchema } from './run-config-glow.ts';
import { architectureOf, DdpmRunConfigSchema, RunConfigSchema } from './run-config.ts';

const issue = (input: unknown) => {
  const r = RunConfigSchema.safeParse(input);
  expect(r.success).toBe(false);
  const first = r.error!.issues[0]!;
  return `${first.path.join('.')}: ${first.message}`;
};

describe('RunConfigSchema: architecture', () => {
  it('a config without architecture parses exactly as the DDPM schema did (stored configs unchanged)', () => {
    const old = { preset: 'tiny', steps: 10, conditioning: 'class', numClasses: 3 };
    const parsed = RunConfigSchema.parse(old);
    expect(parsed).toEqual(DdpmRunConfigSchema.parse(old));
    expect('architecture' in parsed).toBe(false);
    expect(architectureOf(parsed)).toBe('ddpm');
    expect(RunConfigSchema.parse({ ...old, architecture: 'ddpm' }).architecture).toBe('ddpm');
  });

  it('glow: preset defaults (steps by preset, lr 1e-3, warm-up 200, clip 50, EMA 0.999, T = 0.7 and 1.0)', () => {
    const c = RunConfigSchema.parse({ architecture: 'glow', preset: 'glow-tiny' });
    expect(c).toMatchObject({
      architecture: 'glow',
      preset: 'glow-tiny',
      steps: 2000,
      lr: 1e-3,
      warmupSteps: 200,
      clipNorm: 50,
      emaDecay: 0.999,
      optimizer: 'adam',
      sampleTemperatures: [0.7, 1.0],
      heldOutEvery: 250,
      heldOutImages: 128,
      model: {},
    });
    expect(RunConfigSchema.parse({ architecture: 'glow', preset: 'glow-small' }).steps).toBe(100_000);
    expect(Object.keys(c)).not.toContain('schedule');
  });

  it('unknown architecture and presets of the other family are errors naming the field', () => {
    expect(issue({ architecture: 'vae', preset: 'tiny' })).toBe(
      'architecture: unknown architecture "vae": must be ddpm or glow',
    );
    expect(issue({ architecture: 'glow', preset: 'tiny' })).toBe(
      'preset: unknown Glow preset "tiny": must be one of glow-tiny, glow-small, glow-base',
    );
    expect(issue({ preset: 'glow-tiny' })).toMatch(/^preset: unknown preset "glow-tiny"/);
  });

  it('DDPM-only fields are refused for Glow, each by name', () => {
    const values: Record<(typeof DDPM_ONLY_FIELDS)[number], unknown> = {
      schedule: 'cosine',
      timesteps: 1000,
      prediction: 'eps',
      labelDropout: 0.1,
      sampleSampler: 'ddim',
      sampleSteps: 50,
      sampleGuidance: 3,
      heldOutTimesteps: 8,
    };
    for (const [field, value] of Object.entries(values)) {
      expect(issue({ architecture: 'glow', preset: 'glow-tiny', [field]: value })).toBe(
        `${field}: is a DDPM setting: a Glow run has no ${field} (leave it out, or use architecture ddpm)`,
      );
    }
    // And Glow-only fields on a DDPM run are unknown there.
    expect(issue({ preset: 'tiny', sampleTemperatures: [0.7] })).toMatch(/Unrecognized key.*sampleTemperatures/);
  });

  it('model overrides are bounded by the model’s own limits, and the flow’s rules name the field', () => {
    expect(issue({ architecture: 'glow', preset: 'glow-tiny', model: { levels: 7 } })).toBe(
      `model.levels: must be at most ${GLOW_LIMITS.levels[1]}`,
    );
    expect(issue({ architecture: 'glow', preset: 'glow-tiny', model: { depth: 0 } })).toBe(
      'model.depth: must be at least 1',
    );
    expect(issue({ architecture: 'glow', preset: 'glow-tiny', model: { hiddenChannels: 2048 } })).toBe(
      'model.hiddenChannels: must be at most 1024',
    );
    expect(issue({ architecture: 'glow', preset: 'glow-tiny', model: { nBits: 9 } })).toBe(
      'model.nBits: must be at most 8',
    );
    expect(issue({ architecture: 'glow', preset: 'glow-tiny', model: { coupling: 'spline' } })).toBe(
      'model.coupling: unknown coupling "spline": must be affine or additive',
    );
    expect(issue({ architecture: 'glow', preset: 'glow-tiny', model: { resolution: 20, levels: 3 } })).toBe(
      'model.resolution: (20) must be divisible by 2^levels = 8',
    );
    expect(issue({ architecture: 'glow', preset: 'glow-tiny', model: { baseChannels: 8 } })).toMatch(
      /^model: Unrecognized key.*baseChannels/,
    );
    expect(issue({ architecture: 'glow', preset: 'glow-tiny', sampleTemperatures: [] })).toBe(
      'sampleTemperatures: must list at least one temperature',
    );
    expect(issue({ architecture: 'glow', preset: 'glow-tiny', sampleTemperatures: [0] })).toBe(
      'sampleTemperatures.0: must be > 0',
    );
    expect(issue({ architecture: 'glow', preset: 'glow-tiny', heldOutImages: 5000 })).toBe(
      'heldOutImages: must be at most 1024',
    );
  });

  it('builds the flow from the preset, the overrides, the channels and the classes', () => {
    const c = GlowRunConfigSchema.parse({
      architecture: 'glow',
      preset: 'glow-tiny',
      model: { resolution: 8, depth: 2, hiddenChannels: 16, coupling: 'additive', nBits: 5 },
      conditioning: 'class',
      numClasses: 3,
    });
    expect(glowConfigFor(c, 1)).toEqual(
      glowPresetConfig('glow-tiny', {
        resolution: 8,
        depth: 2,
        hiddenChannels: 16,
        coupling: 'additive',
        nBits: 5,
        channels: 1,
        numClasses: 3,
      }),
    );
    const unconditional = GlowRunConfigSchema.parse({ architecture: 'glow', preset: 'glow-tiny' });
    expect(glowConfigFor(unconditional, 3).numClasses).toBeUndefined();
  });
});
