import { describe, expect, it } from 'vitest';
import { ModelCache } from './model-cache.ts';

const entry = (paramBytes: number, disposed: string[], name: string) => ({
  paramBytes,
  dispose: () => disposed.push(name),
});

describe('ModelCache', () => {
  it('evicts the least recently used model by count and by bytes, disposing it', () => {
    const disposed: string[] = [];
    const cache = new ModelCache({ maxModels: 2, maxParamBytes: 100 });
    cache.set('a', entry(40, disposed, 'a'));
    cache.set('b', entry(40, disposed, 'b'));
    cache.get('a'); // a is now the most recent
    cache.set('c', entry(10, disposed, 'c')); // count limit: b goes
    expect(disposed).toEqual(['b']);
    expect(cache.keys()).toEqual(['a', 'c']);
    cache.set('d', entry(95, disposed, 'd')); // bytes: a and c must both go
    expect(disposed).toEqual(['b', 'a', 'c']);
    expect(cache.totalBytes).toBe(95);
    cache.set('e', entry(500, disposed, 'e')); // larger than the budget alone: kept, everything else evicted
    expect(cache.keys()).toEqual(['e']);
    cache.clear();
    expect(disposed).toEqual(['b', 'a', 'c', 'd', 'e']);
  });
});
