import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { EvaluationGroups, TrainingMetrics } from './MetricsPanel';

const evaluation = (id: string, modelVersionId: string, fid: number, paperComparable = false) => ({
  id,
  modelVersionId,
  datasetVersionHash: 'abcdef0123456789',
  paperComparable,
  // Deletable rows render a client component (the router's): covered by e2e/sampling-cancel.test.ts.
  viewerCanDelete: false,
  numSamples: 100,
  sampler: 'ddim',
  steps: 50,
  eta: 0,
  guidance: null as number | null,
  labelSet: 'unconditional',
  fid,
  kid: { mean: 0.0123, std: 0.0021 },
  kidSubsetsDiffer: true as boolean | null,
  inceptionScore: { mean: 1.5, std: 0.1 },
  realInceptionScore: { mean: 2.25, std: 0.05 },
  classifier: null as { name: string; heldOutAccuracy: number } | null,
  sampleAccuracy: null as {
    accuracy: number;
    chance: number;
    perClass: { label: number; name: string; count: number; accuracy: number | null }[];
  } | null,
  datasetInceptionScore: null as { mean: number; std: number } | null,
  realDatasetInceptionScore: null as { mean: number; std: number } | null,
  finishedAt: '2026-11-26T14:00:00.000Z',
});

describe('evaluation groups', () => {
  it('puts numbers with different extractors or sample counts in separate tables, each named by both', () => {
    const html = renderToStaticMarkup(
      createElement(EvaluationGroups, {
        versionNumbers: new Map([
          ['v1', 1],
          ['v2', 2],
        ]),
        groups: [
          {
            comparableKey: 'offline|100|abc',
            extractor: 'offline-randconv-v1',
            numSamples: 100,
            evaluations: [evaluation('e1', 'v1', 12.5), evaluation('e2', 'v2', 9.75)],
          },
          {
            comparableKey: 'inception|1000|abc',
            extractor: 'inception-v3-pool3',
            numSamples: 1000,
            evaluations: [evaluation('e3', 'v2', 33.1, true)],
          },
        ],
      }),
    );
    const tables = html.split('<table').slice(1);
    expect(tables).toHaveLength(2);
    expect(html).toContain('offline-randconv-v1 · 100 samples');
    expect(html).toContain('inception-v3-pool3 · 1,000 samples');
    expect(tables[0]).toContain('12.5');
    expect(tables[0]).toContain('9.75');
    expect(tables[0]).not.toContain('33.1');
    expect(tables[1]).toContain('33.1');
    expect(html).toContain('0.0123 ± 0.0021');
    expect(html).toContain('not to be compared with published numbers');
    expect(html).toContain('may be set beside published numbers');
  });

  it('shows the accuracy of conditional samples overall and per class, the dataset IS against real images, and how samples were made', () => {
    const conditional = {
      ...evaluation('e4', 'v1', 3.5),
      sampler: 'DPMPP-2M-SDE',
      guidance: 3,
      labelSet: 'all(2)',
      classifier: { name: 'dataset-classifier-v1(8px,c=3,k=2,seed=0,steps=300,n=32)', heldOutAccuracy: 0.95 },
      sampleAccuracy: {
        accuracy: 0.875,
        chance: 0.5,
        perClass: [
          { label: 0, name: 'top', count: 8, accuracy: 1 },
          { label: 1, name: 'bottom', count: 8, accuracy: 0.75 },
        ],
      },
      datasetInceptionScore: { mean: 1.81, std: 0.05 },
      realDatasetInceptionScore: { mean: 1.93, std: 0.02 },
      kidSubsetsDiffer: false,
    };
    const html = renderToStaticMarkup(
      createElement(EvaluationGroups, {
        versionNumbers: new Map([['v1', 1]]),
        groups: [{ comparableKey: 'k', extractor: 'pretrained', numSamples: 16, evaluations: [conditional] }],
      }),
    );
    expect(html).toContain('88 %');
    expect(html).toContain('chance 50 %');
    expect(html).toContain('top 100 %');
    expect(html).toContain('bottom 75 %');
    expect(html).toContain('1.81 ± 0.05');
    expect(html).toContain('(1.93)');
    expect(html).toContain('95 % on held-out real images');
    expect(html).toContain('guidance 3');
    expect(html).toContain('all labels (2)');
    expect(html).toContain('0.0123 ± n/a'); // every KID subset was the whole set: no spread to show
  });

  it('says what to do when there are none', () => {
    expect(renderToStaticMarkup(createElement(EvaluationGroups, { groups: [], versionNumbers: new Map() }))).toContain(
      'No finished evaluations yet',
    );
  });
});

describe('training metrics at publish time', () => {
  it("names each metric as the run page's charts do, in their order, with the API's key under the name", () => {
    const row = (key: string, last: number, step: number | null = 40) => ({ key, last, mean: last, step });
    const html = renderToStaticMarkup(
      createElement(TrainingMetrics, {
        step: 40,
        metrics: [
          row('rss_mb', 812, 30),
          row('worker_images_per_sec', 95),
          row('lr', 0.0002),
          row('ema_decay', 0.999),
          row('a_newer_trainers_metric', 1),
          row('loss', 0.25),
          row('loss_q4', 0.5),
        ],
      }),
    );
    const rows = html.split('<tr data-testid="training-metric-').slice(1);
    const cells = rows.map((r) => r.slice(0, r.indexOf('"')));
    expect(cells).toEqual([
      'loss',
      'loss_q4',
      'lr',
      'worker_images_per_sec',
      'rss_mb',
      'a_newer_trainers_metric',
      'ema_decay',
    ]);
    const text = (r: string) => r.replace(/<wbr\/?>/g, '').replace(/<[^>]+>/g, '|');
    expect(text(rows[0]!)).toContain('Loss|');
    expect(text(rows[1]!)).toContain('Loss by t-quartile · t Q4 (most noise)|');
    expect(text(rows[3]!)).toContain('Images/s · per CPU worker|');
    expect(text(rows[3]!)).toContain('worker_images_per_sec');
    expect(text(rows[4]!)).toContain('Memory (MB) · trainer process|');
    expect(text(rows[4]!)).toContain('at step 30');
    expect(text(rows[6]!)).toContain('EMA decay|');
    // A key the dashboard does not know is shown as itself, not given a made-up name.
    expect(rows[5]).not.toContain('muted');
    expect(text(rows[5]!)).toMatch(/^[^|]*\|+a_newer_trainers_metric\|/);
  });
});
