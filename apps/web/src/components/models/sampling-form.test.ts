import { DEFAULT_SAMPLER, SAMPLER_KINDS } from '@dapple/models/config';
import { describe, expect, it } from 'vitest';
import { checkSettings, DEFAULT_SETTINGS, PLAYGROUND_SAMPLERS, samplerKindOf, samplerLabel } from './sampling-form';

describe('the playground’s samplers', () => {
  it('offers every sampler the models package has, and starts on the same default as the hub and the run grids', () => {
    expect(PLAYGROUND_SAMPLERS.map((s) => samplerKindOf(s.value)).sort()).toEqual([...SAMPLER_KINDS].sort());
    expect(samplerKindOf(DEFAULT_SETTINGS.sampler)).toBe(DEFAULT_SAMPLER);
  });

  it('reads eta only for DDIM, and names samplers as the page does', () => {
    const bad = { ...DEFAULT_SETTINGS, eta: '7' };
    expect(checkSettings(bad, []).ok).toBe(true); // the default sampler ignores eta
    const ddim = checkSettings({ ...bad, sampler: 'DDIM' }, []);
    expect(ddim.ok ? null : ddim.errors.eta).toBe('Eta must be a number from 0 to 1.');
    expect(samplerLabel('DPMPP_2M_SDE')).toBe('DPM-Solver++ 2M SDE');
    expect(samplerLabel('SOMETHING_NEW')).toBe('SOMETHING_NEW');
  });
});
