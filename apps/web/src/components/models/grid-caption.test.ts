import { describe, expect, it } from 'vitest';
import { gridCaption } from './grid-caption';

const config = (training: Record<string, unknown>) => JSON.stringify({ unet: {}, training });

describe('gridCaption', () => {
  it('names the class of each row and how a class-conditional DDPM grid was sampled', () => {
    const training = { architecture: 'ddpm', conditioning: 'class', sampleSampler: 'dpmpp-2m-sde', sampleSteps: 50 };
    expect(gridCaption(config({ ...training, sampleGuidance: 3, sampleSeed: 7 }), ['cats', 'dogs'])).toEqual({
      rows: ['cats', 'dogs'],
      seed: 7,
      sampling: 'DPM-Solver++ 2M SDE · 50 steps · guidance 3',
    });
  });

  it('has no rows or guidance for an unconditional run, temperatures for a Glow, only the first 16 classes', () => {
    const ddpm = { conditioning: 'none', sampleSampler: 'ddim', sampleSteps: 20, sampleGuidance: 3 };
    expect(gridCaption(config(ddpm), [])).toEqual({ rows: null, seed: null, sampling: 'DDIM · 20 steps' });
    const glow = { architecture: 'glow', conditioning: 'class', sampleTemperatures: [0.7, 1] };
    const labels = Array.from({ length: 20 }, (_, i) => `c${i}`);
    const caption = gridCaption(config(glow), labels);
    expect(caption.sampling).toBe('temperature 0.7, then 1 (top to bottom)');
    expect(caption.rows).toHaveLength(16);
  });

  it('says nothing it cannot read', () => {
    expect(gridCaption('not json', ['a'])).toEqual({ rows: null, seed: null, sampling: null });
    expect(gridCaption('{"training": 3}', ['a'])).toEqual({ rows: null, seed: null, sampling: null });
  });
});
