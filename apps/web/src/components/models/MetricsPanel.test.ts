import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { EvaluationGroups } from './MetricsPanel';

const evaluation = (id: string, modelVersionId: string, fid: number, paperComparable = false) => ({
  id,
  modelVersionId,
  datasetVersionHash: 'abcdef0123456789',
  paperComparable,
  sampler: 'ddim',
  steps: 50,
  fid,
  kid: { mean: 0.0123, std: 0.0021 },
  inceptionScore: { mean: 1.5, std: 0.1 },
  realInceptionScore: { mean: 2.25, std: 0.05 },
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

  it('says what to do when there are none', () => {
    expect(renderToStaticMarkup(createElement(EvaluationGroups, { groups: [], versionNumbers: new Map() }))).toContain(
      'No evaluations yet',
    );
  });
});
