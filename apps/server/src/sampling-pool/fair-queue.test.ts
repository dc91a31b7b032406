import { describe, expect, it } from 'vitest';
import { FairQueue } from './fair-queue.ts';

const item = (teamId: string, n: number) => ({ id: `${teamId}${n}`, teamId });

describe('FairQueue', () => {
  it('alternates between teams that submit at once, FIFO within each, and predicts that order', () => {
    const q = new FairQueue(1);
    for (const t of ['a', 'b', 'c']) for (let n = 1; n <= 3; n++) q.push(item(t, n));
    expect(q.order().map((i) => i.id)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'b3', 'c3']);
    expect(q.position('c1')).toBe(2);
    const started: string[] = [];
    for (;;) {
      const next = q.take();
      if (!next) break;
      started.push(next.id);
      q.done(next.teamId);
    }
    expect(started).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'b3', 'c3']);
  });

  it('a team that just ran goes behind teams waiting, even if its next job arrived first', () => {
    const q = new FairQueue(1);
    q.push(item('a', 1));
    expect(q.take()?.id).toBe('a1');
    q.push(item('a', 2));
    q.push(item('b', 1));
    expect(q.order().map((i) => i.id)).toEqual(['b1', 'a2']);
  });

  it('holds a team at its concurrency limit while others run', () => {
    const q = new FairQueue(1);
    q.push(item('a', 1));
    q.push(item('a', 2));
    q.push(item('b', 1));
    expect(q.take()?.id).toBe('a1');
    expect(q.take()?.id).toBe('b1');
    expect(q.take()).toBeNull(); // a2 waits for a1: team a is at its limit
    q.done('a');
    expect(q.take()?.id).toBe('a2');
    expect(q.remove('zz')).toBeNull();
    q.push(item('b', 2));
    expect(q.remove('b2')?.id).toBe('b2');
    expect(q.take()).toBeNull();
  });
});
