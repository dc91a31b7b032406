import { DEFAULT_CLASS_GUIDANCE, DEFAULT_SAMPLER, SAMPLER_KINDS } from '@dapple/models/config';
import { describe, expect, it } from 'vitest';
import {
  checkSettings,
  DEFAULT_SETTINGS,
  PLAYGROUND_SAMPLERS,
  samplerKindOf,
  samplerLabel,
  settingsOf,
} from './sampling-form';

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

describe('the playground’s guidance', () => {
  const guidanceOf = (patch: Partial<typeof DEFAULT_SETTINGS>) => {
    const r = checkSettings({ ...DEFAULT_SETTINGS, ...patch }, ['cat', 'dog']);
    return r.ok ? r.value.guidance : r.errors.guidance;
  };

  it('guides a chosen class as the run grids do when left empty, takes a given scale, and needs a class for one', () => {
    expect(guidanceOf({ label: 'dog' })).toBe(DEFAULT_CLASS_GUIDANCE);
    expect(guidanceOf({ label: 'dog', guidance: '1' })).toBe(1);
    expect(guidanceOf({})).toBeNull();
    expect(guidanceOf({ guidance: '2' })).toBe('Guidance needs a class: choose a label.');
  });
});

describe('using an earlier job’s settings', () => {
  it('fills the form so that it asks for the same images again (diffusion, guided label, Glow)', () => {
    const guided = {
      seed: 7,
      count: 16,
      steps: 30,
      sampler: 'DDIM',
      eta: 0.5,
      guidance: 3,
      label: 'dog',
      temperature: null,
    };
    const again = checkSettings(settingsOf(guided), ['cat', 'dog']);
    expect(again.ok && again.value).toEqual({ ...guided, sampler: 'DDIM' });
    const plain = { seed: 1, count: 8, steps: 50, sampler: 'DPMPP_2M_SDE', eta: 0, guidance: null, label: null };
    expect(settingsOf(plain)).toEqual({ ...DEFAULT_SETTINGS, seed: '1', count: '8' });
    const glow = {
      seed: 3,
      count: 4,
      steps: 1,
      sampler: 'DDIM',
      eta: 0,
      guidance: null,
      label: 'cat',
      temperature: 0.9,
    };
    const glowAgain = checkSettings(settingsOf(glow), ['cat', 'dog'], 'GLOW');
    expect(glowAgain.ok && glowAgain.value).toMatchObject({ seed: 3, count: 4, label: 'cat', temperature: 0.9 });
    // A sampler this page does not offer (a newer hub) falls back to the default instead of an empty select.
    expect(settingsOf({ ...plain, sampler: 'UNIPC' }).sampler).toBe(DEFAULT_SETTINGS.sampler);
  });
});
