// Names of GPU renderers that are really the CPU drawing: Chromium's SwiftShader (its WebGL when the GPU is disabled,
// blocklisted or missing, as on most VMs and remote desktops), Mesa's llvmpipe/softpipe/lavapipe, Windows' Basic
// Render Driver and Apple's software renderer. TF.js on them runs every shader on the CPU: in headless Chromium on a
// 2-core machine, 16 images × 50 steps of a `tiny` 32 px model took 168.3 s on SwiftShader's WebGL against 3.3 s on
// our WebAssembly workers (2), so "fastest available" must not pick them.
const SOFTWARE = /\b(swiftshader|llvmpipe|softpipe|lavapipe|microsoft basic render|apple software renderer)\b/i;

/** The software renderer a WebGL renderer or WebGPU adapter description names (as it spells it), or null for a GPU. */
export function softwareRenderer(description: string): string | null {
  return SOFTWARE.exec(description)?.[1] ?? null;
}
