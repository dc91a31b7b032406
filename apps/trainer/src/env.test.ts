import { describe, expect, it } from 'vitest';
import { loadTrainerEnv } from './env.ts';

const base = {
  DAPPLE_HUB_URL: 'http://127.0.0.1:4000',
  DAPPLE_RUN_ID: '6f1c1d1e-8a3b-4c5d-9e6f-7a8b9c0d1e2f',
  DAPPLE_RUN_TOKEN: 'x'.repeat(43),
};

describe('trainer env', () => {
  it('reads the hub URL, run id and token; a GPU slot from CUDA_VISIBLE_DEVICES', () => {
    expect(loadTrainerEnv({ ...base, CUDA_VISIBLE_DEVICES: '1' })).toEqual({
      hubUrl: base.DAPPLE_HUB_URL,
      runId: base.DAPPLE_RUN_ID,
      runToken: base.DAPPLE_RUN_TOKEN,
      gpu: '1',
    });
    expect(loadTrainerEnv({ ...base, CUDA_VISIBLE_DEVICES: '' }).gpu).toBeNull();
  });

  it('takes webgpu as a backend and an adapter-name filter for it', () => {
    const env = loadTrainerEnv({ ...base, DAPPLE_TF_BACKEND: 'webgpu', DAPPLE_WEBGPU_ADAPTER: 'NVIDIA H100' });
    expect(env.backend).toBe('webgpu');
    expect(env.webgpuAdapter).toBe('NVIDIA H100');
  });

  it('reads DAPPLE_CPU_WORKERS and DAPPLE_CPU_VERIFY_EVERY (unset or empty: the defaults)', () => {
    expect(loadTrainerEnv({ ...base, DAPPLE_CPU_WORKERS: '4', DAPPLE_CPU_VERIFY_EVERY: '10' })).toMatchObject({
      cpuWorkers: 4,
      cpuVerifyEvery: 10,
    });
    expect(loadTrainerEnv({ ...base, DAPPLE_CPU_WORKERS: '' })).not.toHaveProperty('cpuWorkers');
    expect(loadTrainerEnv(base)).not.toHaveProperty('cpuWorkers');
    expect(() => loadTrainerEnv({ ...base, DAPPLE_CPU_WORKERS: '0' })).toThrow(
      /DAPPLE_CPU_WORKERS: must be at least 1/,
    );
    expect(() => loadTrainerEnv({ ...base, DAPPLE_CPU_WORKERS: 'all' })).toThrow(
      /DAPPLE_CPU_WORKERS: must be a whole number/,
    );
  });

  it('names every missing or bad variable', () => {
    expect(() => loadTrainerEnv({ DAPPLE_HUB_URL: 'ftp://x', DAPPLE_TF_BACKEND: 'tpu' })).toThrow(
      /DAPPLE_HUB_URL[\s\S]*DAPPLE_RUN_ID[\s\S]*DAPPLE_RUN_TOKEN[\s\S]*DAPPLE_TF_BACKEND/,
    );
  });
});
