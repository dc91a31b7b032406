import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  driPrimeTag,
  gpuSlots,
  hardwareAdapters,
  parseDawnAdapterList,
  parseNvidiaSmi,
  webgpuAdapters,
} from './gpu-slots.ts';

const DAWN_LIST = `no suitable backends found
Available adapters:
 * backend: 'vulkan', name: 'NVIDIA H100 80GB HBM3'
 * backend: 'vulkan', name: 'NVIDIA H100 80GB HBM3'
 * backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)'
 * backend: 'opengles', name: 'NVIDIA H100 80GB HBM3/PCIe/SSE2'
`;

describe('GPU slots', () => {
  it('reads nvidia-smi CSV with PCI bus ids, skipping what is not a GPU line', () => {
    const csv =
      '0, NVIDIA H100 80GB HBM3, 00000000:19:00.0\n1, NVIDIA H100 80GB HBM3, 00000000:3B:00.0\n\nNo devices\n';
    expect(parseNvidiaSmi(csv)).toEqual([
      { index: 0, name: 'NVIDIA H100 80GB HBM3', busId: '00000000:19:00.0' },
      { index: 1, name: 'NVIDIA H100 80GB HBM3', busId: '00000000:3B:00.0' },
    ]);
    expect(driPrimeTag('00000000:3B:00.0')).toBe('pci-0000_3b_00_0');
  });

  it('counts each hardware GPU once (native API only), never a software adapter', () => {
    const entries = parseDawnAdapterList(DAWN_LIST);
    expect(entries).toHaveLength(4);
    expect(hardwareAdapters(entries).map((e) => e.name)).toEqual(['NVIDIA H100 80GB HBM3', 'NVIDIA H100 80GB HBM3']);
    expect(hardwareAdapters(parseDawnAdapterList(" * backend: 'vulkan', name: 'llvmpipe (LLVM 15)'"))).toEqual([]);
  });

  it('one slot per NVIDIA GPU pinned for Vulkan by PCI bus; other GPUs by adapter name', () => {
    const nvidia = parseNvidiaSmi('0, NVIDIA A10, 00000000:19:00.0\n1, NVIDIA A10, 00000000:3b:00.0');
    expect(gpuSlots(nvidia, parseDawnAdapterList(DAWN_LIST))).toEqual([
      {
        id: 'gpu0',
        gpu: 0,
        device: 'NVIDIA A10',
        env: { DRI_PRIME: 'pci-0000_19_00_0', MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: '1' },
      },
      {
        id: 'gpu1',
        gpu: 1,
        device: 'NVIDIA A10',
        env: { DRI_PRIME: 'pci-0000_3b_00_0', MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: '1' },
      },
    ]);
    const amdIntel = parseDawnAdapterList(
      " * backend: 'vulkan', name: 'AMD Radeon RX 7900 XTX (RADV NAVI31)'\n * backend: 'vulkan', name: 'Intel(R) Arc(tm) A770 Graphics (DG2)'\n * backend: 'vulkan', name: 'llvmpipe (LLVM 19.1.7, 256 bits)'",
    );
    expect(gpuSlots([], amdIntel)).toEqual([
      {
        id: 'gpu0',
        gpu: 0,
        device: 'AMD Radeon RX 7900 XTX (RADV NAVI31)',
        env: { DAPPLE_WEBGPU_ADAPTER: 'AMD Radeon RX 7900 XTX (RADV NAVI31)' },
      },
      {
        id: 'gpu1',
        gpu: 1,
        device: 'Intel(R) Arc(tm) A770 Graphics (DG2)',
        env: { DAPPLE_WEBGPU_ADAPTER: 'Intel(R) Arc(tm) A770 Graphics (DG2)' },
      },
    ]);
    expect(gpuSlots([], [])).toEqual([]);
  });

  it('lists the WebGPU adapters of this machine through Dawn in a child process', async () => {
    const adapters = await webgpuAdapters();
    // Whatever this machine has (lavapipe on CI, nothing without Mesa 25 or a GPU driver), each entry is a
    // named adapter of a known API, and a software one never becomes a slot.
    for (const a of adapters) {
      expect(a.backend).toMatch(/^(vulkan|metal|d3d12|d3d11|opengl|opengles|null|webgpu)$/);
      expect(a.name.length).toBeGreaterThan(0);
    }
    expect(hardwareAdapters(adapters).every((a) => !/llvmpipe|swiftshader/i.test(a.name))).toBe(true);
    // Where Mesa's lavapipe is installed (CI), Dawn must have found it: the probe really ran.
    if (existsSync('/usr/share/vulkan/icd.d/lvp_icd.json'))
      expect(adapters.map((a) => a.name).join()).toMatch(/llvmpipe/);
  });
});
