import { describe, expect, it } from 'vitest';
import { softwareRenderer } from './software-renderer';

describe('softwareRenderer', () => {
  it('names the CPU renderers that browsers report for WebGL and WebGPU', () => {
    // Unmasked WEBGL_debug_renderer_info strings as Chromium, Firefox and Safari report them.
    expect(
      softwareRenderer('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)'),
    ).toBe('SwiftShader');
    expect(softwareRenderer('Google SwiftShader')).toBe('SwiftShader');
    expect(softwareRenderer('ANGLE (Mesa, llvmpipe (LLVM 15.0.6, 256 bits), OpenGL 4.5)')).toBe('llvmpipe');
    expect(softwareRenderer('llvmpipe (LLVM 19.1.7, 256 bits)')).toBe('llvmpipe');
    expect(softwareRenderer('Mesa softpipe')).toBe('softpipe');
    expect(softwareRenderer('ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0)')).toBe(
      'Microsoft Basic Render',
    );
    expect(softwareRenderer('Apple Software Renderer')).toBe('Apple Software Renderer');
    // WebGPU adapter info (vendor, architecture, device, description) of Mesa's Vulkan CPU driver.
    expect(softwareRenderer('mesa  llvmpipe (LLVM 19.1.7, 256 bits)')).toBe('llvmpipe');
  });

  it('leaves real GPUs alone', () => {
    for (const gpu of [
      'ANGLE (NVIDIA, NVIDIA GeForce RTX 4090 (0x00002684) Direct3D11 vs_5_0 ps_5_0, D3D11)',
      'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)',
      'ANGLE (AMD, AMD Radeon RX 7900 XTX (radeonsi, navi31, LLVM 17.0.6, DRM 3.57), OpenGL 4.6)',
      'Apple M2',
      'nvidia hopper',
      'WebKit WebGL',
      '',
    ])
      expect(softwareRenderer(gpu), gpu).toBeNull();
  });
});
