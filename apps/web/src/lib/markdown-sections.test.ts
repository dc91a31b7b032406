import { describe, expect, it } from 'vitest';
import { withoutSection } from './markdown-sections';

describe('withoutSection', () => {
  const card = [
    '# m — version 1',
    '',
    '## Training',
    '',
    '- run',
    '',
    '## Metrics at publish time',
    '',
    '| a | b |',
    '',
    '## Files',
    '',
    '- x',
  ].join('\n');

  it('drops the section up to the next heading of its level', () => {
    expect(withoutSection(card, '## Metrics at publish time')).toBe(
      ['# m — version 1', '', '## Training', '', '- run', '', '## Files', '', '- x'].join('\n'),
    );
  });

  it('drops a last section to the end, and leaves markdown without it alone', () => {
    expect(withoutSection('a\n## Files\n- x', '## Files')).toBe('a');
    expect(withoutSection(card, '## Notes')).toBe(card);
  });
});
