import { describe, expect, it } from 'vitest';
import { visibleGroups } from '../../lib/metric-groups';
import { allowedActions, attemptLabel, formatMetric } from './run-status';

const checkpoint = { step: 10, sizeBytes: 1, createdAt: '2026-01-01T00:00:00Z' };

describe('run page rules', () => {
  it('labels attempts by what happened: nothing, automatic retries, resumed by the user', () => {
    const created = { attempt: 0, fromStatus: null, toStatus: 'QUEUED' as const };
    expect(attemptLabel({ attempt: 1, maxAttempts: 3, events: [created] })).toBeNull();
    const lost = [
      created,
      { attempt: 1, fromStatus: 'RUNNING' as const, toStatus: 'LOST' as const },
      { attempt: 1, fromStatus: 'LOST' as const, toStatus: 'QUEUED' as const },
    ];
    expect(attemptLabel({ attempt: 2, maxAttempts: 3, events: lost })).toBe('automatic retry 1 of 2');
    // Cancelled by the user, then resumed: the hub gives 3 more attempts (maxAttempts 1 + 3).
    const resumed = [
      created,
      { attempt: 1, fromStatus: 'CANCELLING' as const, toStatus: 'CANCELLED' as const },
      { attempt: 1, fromStatus: 'CANCELLED' as const, toStatus: 'QUEUED' as const },
    ];
    expect(attemptLabel({ attempt: 2, maxAttempts: 4, events: resumed })).toBe('resumed');
    const resumedThenLost = [
      ...resumed,
      { attempt: 2, fromStatus: 'RUNNING' as const, toStatus: 'LOST' as const },
      { attempt: 2, fromStatus: 'LOST' as const, toStatus: 'QUEUED' as const },
    ];
    expect(attemptLabel({ attempt: 3, maxAttempts: 4, events: resumedThenLost })).toBe(
      'resumed · automatic retry 1 of 2',
    );
    const twice = [...resumed, { attempt: 2, fromStatus: 'FAILED' as const, toStatus: 'QUEUED' as const }];
    expect(attemptLabel({ attempt: 3, maxAttempts: 5, events: twice })).toBe('resumed 2×');
  });

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
