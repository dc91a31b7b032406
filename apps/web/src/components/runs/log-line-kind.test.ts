import { describe, expect, it } from 'vitest';
import { logLineKind } from './log-line-kind';

describe('logLineKind', () => {
  it('shows stderr as an error unless the line says it is a warning', () => {
    expect(logLineKind('STDOUT', 'Warning: looks like one, but on stdout')).toBe('out');
    expect(logLineKind('STDERR', 'Error: the trainer crashed')).toBe('error');
    expect(logLineKind('STDERR', '    at Object.<anonymous> (train.ts:1:1)')).toBe('error');
    expect(
      logLineKind(
        'STDERR',
        'Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.',
      ),
    ).toBe('warning');
    expect(logLineKind('STDERR', '(node:4242) Warning: a promise was rejected late')).toBe('warning');
    expect(logLineKind('STDERR', 'RuntimeWarning: not this shape')).toBe('error');
  });
});
