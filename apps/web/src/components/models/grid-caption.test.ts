import { describe, expect, it } from 'vitest';
import { gridCaption } from './grid-caption';

const config = (training: Record<string, unknown>) => JSON.stringify({ unet: {}, training });

describe('gridCaption', () => {
  it('names the class of each row and how a class-conditional DDPM grid was sampled', () => {
    const training = { architecture: 'ddpm', conditioning: 'class', sampleSampler: 'dpmpp-2m-sde', sampleSteps: 50 };
    expect(gridCaption(config({ ...training, sampleGuidance: 3, sampleSeed: 7 }), ['cats', 'dogs'])).toBe(
      'Rows, top to bottom: cats, dogs. Drawn with DPM-Solver++ 2M SDE · 50 steps · guidance 3 · seed 7.',
    );
  });

  it('has no rows or guidance for an unconditional run', () => {
    const ddpm = { conditioning: 'none', sampleSampler: 'ddim', sampleSteps: 20, sampleGuidance: 3 };
    expect(gridCaption(config(ddpm), [])).toBe('Drawn with DDIM · 20 steps.');
  });

  it('describes a Glow grid as blocks of class rows, one per temperature, and names only the first 16 classes', () => {
    const glow = { architecture: 'glow', conditioning: 'class', sampleTemperatures: [0.7, 1], sampleSeed: 3 };
    expect(gridCaption(config(glow), ['cats', 'dogs'])).toBe(
      'One block per temperature, top to bottom: 0.7, 1; in each, rows cats, dogs. Drawn with seed 3.',
    );
    const many = Array.from({ length: 20 }, (_, i) => `c${i}`);
    expect(gridCaption(config({ ...glow, sampleTemperatures: [1] }), many)).toBe(
      `Rows, top to bottom: ${many.slice(0, 16).join(', ')}. Drawn with temperature 1 · seed 3.`,
    );
  });

  it('says nothing it cannot read', () => {
    expect(gridCaption('not json', ['a'])).toBeNull();
    expect(gridCaption('{"training": 3}', ['a'])).toBeNull();
  });
});
