import { describe, expect, it } from 'vitest';
import { markdownText, modelCardMarkdown, type ModelCardInput } from './artifacts.ts';

const unet = { baseChannels: 16, channelMults: [1, 2], numResBlocks: 1, attentionResolutions: [] as number[] };
const config = {
  unet,
  schedule: { kind: 'cosine', T: 1000 },
  predictionType: 'eps',
  precision: 'float16',
  training: { preset: 'tiny', batchSize: 8, lr: 2e-4, optimizer: 'adamw', emaDecay: 0.9999 },
};

const card = (over: Partial<ModelCardInput> = {}) =>
  modelCardMarkdown({
    modelName: 'blobs',
    description: 'Grey **blobs**.',
    number: 2,
    runName: 'run-a',
    runId: '00000000-0000-0000-0000-000000000001',
    step: 500,
    totalSteps: 1000,
    datasetName: 'squares',
    datasetVersionHash: 'abc123',
    config,
    resolution: 16,
    channels: 3,
    labelNames: [],
    metrics: { images_per_sec: { step: 501, last: 113.4, mean: 113.4 }, loss: { step: 500, last: 0.08, mean: 0.1 } },
    notes: '',
    fromEma: true,
    publishedBy: 'Ada',
    publishedAt: new Date('2026-11-27T02:37:17Z'),
    ...over,
  });

describe('model card', () => {
  it('describes the model in words: multipliers as a list, "no self-attention", metric names as code', () => {
    const md = card();
    expect(md).toContain('# blobs — version 2');
    expect(md).toContain('Grey **blobs**.'); // the description is markdown on purpose
    expect(md).toContain('channel multipliers 1, 2, 1 res blocks per level, no self-attention');
    expect(md).toContain('| `images_per_sec` | 113.4 | 113.4 | 501 |');
    expect(card({ config: { ...config, unet: { ...unet, attentionResolutions: [16, 8] } } })).toContain(
      'self-attention at 16×16, 8×8',
    );
  });

  it('keeps names people typed as text: no emphasis, no split table cells, no HTML', () => {
    expect(markdownText('*wip* | <b>v2</b> #1 snake_case')).toBe('\\*wip\\* \\| \\<b\\>v2\\</b\\> \\#1 snake\\_case');
    expect(markdownText('two\nlines')).toBe('two lines');
    const md = card({ modelName: '_draft_', runName: 'a|b', labelNames: ['cat*', 'dog'], publishedBy: '<Ada>' });
    expect(md).toContain('# \\_draft\\_ — version 2');
    expect(md).toContain('- Run "a\\|b"');
    expect(md).toContain('labels: cat\\*, dog');
    expect(md).toContain('Published by \\<Ada\\>');
  });
});
