import { describe, expect, it } from 'vitest';
import { optimizerText } from './optimizer-text';

describe('optimizerText', () => {
  it('names the warm-up before the schedule, and the clipping', () => {
    const glow = { optimizer: 'ADAM', lr: 0.001, lrDecay: 'CONSTANT', warmupSteps: 200, clipNorm: 1 };
    expect(optimizerText(glow)).toBe('adam, lr 0.001 (constant after a 200-step warm-up), gradients clipped at norm 1');
    expect(optimizerText({ ...glow, optimizer: 'ADAMW', lrDecay: 'COSINE', warmupSteps: 5000, clipNorm: 0.5 })).toBe(
      'adamw, lr 0.001 (cosine decay after a 5,000-step warm-up), gradients clipped at norm 0.5',
    );
  });

  it('says nothing of a warm-up when there is none', () => {
    expect(optimizerText({ optimizer: 'ADAM', lr: 0.0002, lrDecay: 'CONSTANT', warmupSteps: 0, clipNorm: 1 })).toBe(
      'adam, lr 0.0002 (constant), gradients clipped at norm 1',
    );
  });
});
