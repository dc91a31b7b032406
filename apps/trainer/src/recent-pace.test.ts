import { describe, expect, it } from 'vitest';
import { RecentPace } from './recent-pace.ts';

describe('RecentPace', () => {
  it('holds steady over a run that pauses for sample grids (counting the pauses, as an ETA must)', () => {
    // 100 images/s in steps of 10, and every 20 s a 5-s pause (a sample grid): 80 images/s over time.
    let now = 0;
    const pace = new RecentPace(60_000, () => now);
    const paces: number[] = [];
    for (let second = 0; second < 300; second += 0.1) {
      now = second * 1000;
      if (second % 25 >= 20) continue; // the pause: no steps
      const rate = pace.add(10);
      if (second > 60 && rate !== null) paces.push(rate);
    }
    expect(Math.min(...paces)).toBeGreaterThan(72);
    expect(Math.max(...paces)).toBeLessThan(88);
  });

  it('follows a change of speed within the window', () => {
    let now = 0;
    const pace = new RecentPace(60_000, () => now);
    let rate: number | null = null;
    for (let t = 0; t < 120_000; t += 100) {
      now = t;
      rate = pace.add(t < 60_000 ? 10 : 5); // 100 images/s, then 50
    }
    // The window may start up to a second before the minute (marks are a second apart): within 2 % of 50.
    expect(rate).toBeGreaterThan(49.5);
    expect(rate).toBeLessThan(51);
  });

  it('says nothing for the first half second', () => {
    let now = 0;
    const pace = new RecentPace(60_000, () => now);
    now = 400;
    expect(pace.add(32)).toBeNull();
    now = 800;
    expect(pace.add(32)).toBe(80);
  });
});
