import { describe, expect, it } from 'vitest';
import { baseLabelRows } from './base-model.ts';

describe('baseLabelRows', () => {
  it("starts each of the dataset's classes from the base's class of the same name", () => {
    expect(baseLabelRows(['cat', 'dog', 'fox'], ['fox', 'cat', 'dog'])).toEqual([2, 0, 1]);
  });

  it('gives new names the rows no name claimed, in order', () => {
    expect(baseLabelRows(['cat', 'dog', 'fox'], ['owl', 'dog', 'bee'])).toBeNull(); // dog keeps row 1, the rest fill 0 and 2
    expect(baseLabelRows(['cat', 'dog', 'fox'], ['dog', 'owl', 'bee'])).toEqual([1, 0, 2]);
    expect(baseLabelRows(['cat', 'dog'], ['bee', 'cat'])).toEqual([1, 0]);
  });

  it('is null where row i stays row i or there is nothing to match by', () => {
    expect(baseLabelRows(['cat', 'dog'], ['cat', 'dog'])).toBeNull();
    expect(baseLabelRows(['cat', 'dog'], ['owl', 'bee'])).toBeNull();
    expect(baseLabelRows([], ['cat', 'dog'])).toBeNull(); // a base published without label names
    expect(baseLabelRows(['cat', 'dog'], [])).toBeNull(); // an unconditional fine-tune
    expect(baseLabelRows(['cat', 'dog'], ['cat', 'dog', 'owl'])).toBeNull(); // refused by the architecture check
  });
});
