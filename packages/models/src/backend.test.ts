import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend.ts';

describe('selectBackend', () => {
  it('falls back past the absent node bindings to wasm and reports why', async () => {
    const report = await selectBackend();
    // tfjs-node(-gpu) cannot be installed offline; where they are present this test still passes as long as
    // the report is consistent with what TF.js says.
    const chosen = report.tried.find((a) => a.ok);
    expect(chosen?.name).toBe(report.backend);
    expect(tf.getBackend()).toBe(report.tfBackend);
    for (const a of report.tried.slice(0, -1)) expect(a.ok).toBe(false);
    if (report.backend === 'wasm') {
      expect(report.tried.map((a) => a.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm']);
      // Absent, or present without its native addon (npm ci runs no install scripts).
      expect(report.tried[0]!.reason).toMatch(/^@tensorflow\/tfjs-node-gpu is not installed/);
      // No GPU here: either no adapter at all, or only a software one, which the chain must pass by.
      expect(report.tried[1]!.reason).toMatch(/no WebGPU adapter|only a software adapter|not installed|failed to load/);
      expect(report.hasConvFilterGrad).toBe(false);
      expect(report.adapter).toBeNull();
    }
    const y = tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'same');
    expect((await y.data())[5]).toBe(9);
    y.dispose();
  });

  it('honours an explicit choice, and without fallback fails with the reason', async () => {
    const cpu = await selectBackend({ prefer: 'cpu' });
    expect(cpu.backend).toBe('cpu');
    expect(cpu.hasConvFilterGrad).toBe(true);
    expect(tf.getBackend()).toBe('cpu');
    await expect(selectBackend({ prefer: 'tensorflow-gpu', fallback: false })).rejects.toThrow(/tensorflow-gpu/);
    await expect(selectBackend({ prefer: 'metal' as never })).rejects.toThrow(/backend\.prefer/);
    const wasm = await selectBackend({ prefer: 'wasm' });
    expect(wasm.backend).toBe('wasm');
    expect(wasm.tried).toHaveLength(1);
  });
});

describe('selectBackend: webgpu', () => {
  it('uses a software adapter (lavapipe) only when asked for by name, and names the adapter', async () => {
    const auto = await selectBackend();
    const forced = await selectBackend({ prefer: 'webgpu', fallback: false }).catch((err: Error) => err);
    if (forced instanceof Error) {
      // No WebGPU adapter here at all (CI without Mesa 25): the reason says so.
      expect(forced.message).toMatch(/webgpu: (no WebGPU adapter|.*not installed|.*failed)/);
      return;
    }
    expect(forced.backend).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(forced.adapter!.description.length + forced.adapter!.vendor.length).toBeGreaterThan(0);
    expect(forced.adapter!.features.length).toBeGreaterThan(0);
    if (forced.adapter!.software) expect(auto.backend).not.toBe('webgpu');
    const y = tf.add(tf.ones([3]), 1);
    expect(Array.from(await y.data())).toEqual([2, 2, 2]);
    y.dispose();
    await selectBackend({ prefer: 'wasm' });
  });
});
