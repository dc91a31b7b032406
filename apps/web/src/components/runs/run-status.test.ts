import { describe, expect, it } from 'vitest';
import { visibleGroups } from './metric-groups';
import { allowedActions, formatMetric } from './run-status';

const checkpoint = { step: 10, sizeBytes: 1, createdAt: '2026-01-01T00:00:00Z' };

describe('run page rules', () => {
  it('enables cancel while a run can stop, resume after failure or cancel, fork once a checkpoint exists', () => {
    expect(allowedActions({ status: 'RUNNING', checkpoints: [] })).toEqual({
      cancel: true,
      resume: false,
      fork: false,
    });
    expect(allowedActions({ status: 'QUEUED', checkpoints: [] })).toEqual({ cancel: true, resume: false, fork: false });
    expect(allowedActions({ status: 'CANCELLING', checkpoints: [checkpoint] })).toEqual({
      cancel: false,
      resume: false,
      fork: true,
    });
    expect(allowedActions({ status: 'CANCELLED', checkpoints: [checkpoint] })).toEqual({
      cancel: false,
      resume: true,
      fork: true,
    });
    expect(allowedActions({ status: 'FAILED', checkpoints: [] })).toEqual({ cancel: false, resume: true, fork: false });
    expect(allowedActions({ status: 'SUCCEEDED', checkpoints: [checkpoint] })).toEqual({
      cancel: false,
      resume: false,
      fork: true,
    });
  });

  it('draws the loss chart always and the others only for keys the run reported', () => {
    expect(visibleGroups([]).map((g) => g.title)).toEqual(['Loss']);
    expect(visibleGroups(['loss', 'loss_q3', 'rss_mb']).map((g) => g.title)).toEqual([
      'Loss',
      'Loss by t-quartile',
      'Memory (MB)',
    ]);
    // A CPU run's data-parallel workers: their count, and one worker's img/s beside the run's.
    const cpu = visibleGroups(['loss', 'images_per_sec', 'worker_images_per_sec', 'cpu_workers']);
    expect(cpu.map((g) => g.title)).toEqual(['Loss', 'Images/s', 'CPU workers']);
    expect(cpu[1]!.labels).toEqual({ images_per_sec: 'run', worker_images_per_sec: 'per CPU worker' });
  });

  it('formats metric values compactly', () => {
    expect(formatMetric(0.123456)).toBe('0.123');
    expect(formatMetric(0.0002)).toBe('2.00e-4');
    expect(formatMetric(1234)).toBe('1234');
  });
});
