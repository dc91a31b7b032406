import { describe, expect, it } from 'vitest';
import { conditioningText, optimizerText } from './config-facts';

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

describe('conditioningText', () => {
  it('names the label dropout where the model family has one (DDPM), and not where it has none (Glow)', () => {
    expect(conditioningText({ conditioning: 'CLASS', numClasses: 2, labelDropout: 0.1 })).toBe(
      '2 classes (dataset labels), label dropout 0.1',
    );
    expect(conditioningText({ conditioning: 'CLASS', numClasses: 2, labelDropout: null })).toBe(
      '2 classes (dataset labels)',
    );
    expect(conditioningText({ conditioning: 'NONE', numClasses: null, labelDropout: null })).toBe('unconditional');
  });
});
