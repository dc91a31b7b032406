import { describe, expect, it } from 'vitest';
import { isBannerLine } from './logs.ts';

describe('trainer output filter', () => {
  it("drops TF.js's Node.js banner and keeps real lines", () => {
    expect(isBannerLine('============================')).toBe(true);
    expect(
      isBannerLine(
        'Hi, looks like you are running TensorFlow.js in Node.js. To speed things up dramatically, install our node backend',
      ),
    ).toBe(true);
    expect(isBannerLine('2026-11-26T13:00:00.000Z checkpoint at step 10')).toBe(false);
    expect(isBannerLine('loss = 0.5')).toBe(false);
  });
});
