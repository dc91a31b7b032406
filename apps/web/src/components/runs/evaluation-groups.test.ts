import { describe, expect, it } from 'vitest';
import { evaluationGroups, type Evaluation, type RunEvaluations } from './evaluation-groups';

const evaluation = (id: string, key: string, kid: number): Evaluation => ({
  id,
  comparableKey: key,
  extractor: 'offline:random-conv-v1(seed=0)',
  numSamples: 10,
  datasetVersionHash: 'ab'.repeat(32),
  sampler: 'DPMPP-2M-SDE',
  steps: 50,
  eta: 0,
  guidance: null,
  labelSet: 'unconditional',
  kid: { mean: kid, std: 0.01 },
  kidSubsetsDiffer: true,
  fid: 1,
  sampleAccuracy: null,
});

const run = (id: string, architecture: 'GLOW' | 'DDPM', evaluations: Evaluation[], bpd: number): RunEvaluations => ({
  id,
  name: id,
  config: { architecture },
  metrics: [
    { key: 'held_out_bits_per_dim', points: [{ last: bpd, lastStep: 20 }] },
    { key: 'images_per_sec', points: [{ last: 40, lastStep: 20 }] },
  ],
  publishedModelVersions: [
    { id: `${id}-v1`, number: 1, step: 20, architecture, model: { id: `${id}-m`, name: `${id}-model` }, evaluations },
  ],
});

describe('evaluationGroups', () => {
  it('puts rows of one comparableKey together, the group spanning most runs first, each row with its run’s numbers', () => {
    const groups = evaluationGroups([
      run('glow', 'GLOW', [evaluation('g1', 'A', 0.2), evaluation('g2', 'B', 0.3)], 5.5),
      run('ddpm', 'DDPM', [evaluation('d1', 'A', 0.1)], 6.1),
    ]);
    expect(groups.map((g) => [g.key, g.rows.map((r) => r.evaluation.id)])).toEqual([
      ['A', ['g1', 'd1']],
      ['B', ['g2']],
    ]);
    expect(groups[0]!.rows.map((r) => [r.run.name, r.architecture, r.heldOutBitsPerDim, r.imagesPerSec])).toEqual([
      ['glow', 'GLOW', 5.5, 40],
      ['ddpm', 'DDPM', 6.1, 40],
    ]);
  });

  it('is empty when no run has an evaluated version, and a run without the metrics has none to show', () => {
    expect(evaluationGroups([run('glow', 'GLOW', [], 5)])).toEqual([]);
    const bare = { ...run('ddpm', 'DDPM', [evaluation('d1', 'A', 0.1)], 6), metrics: [] };
    expect(evaluationGroups([bare])[0]!.rows[0]).toMatchObject({ heldOutBitsPerDim: null, imagesPerSec: null });
  });
});
