import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ExecutorSlot } from './types.ts';

const execFileAsync = promisify(execFile);

/**
 * The GPUs this machine can train on, one executor slot (so one run) each. Two sources:
 *  - `nvidia-smi`: NVIDIA GPUs with their PCI bus ids;
 *  - the WebGPU adapters Dawn sees (the trainer's GPU backend; AMD, Intel and Apple GPUs count), listed by a
 *    child process (webgpu-adapters.mjs) so the hub never loads a GPU driver itself. Software adapters
 *    (lavapipe, llvmpipe, SwiftShader) are not GPUs: wasm beats them.
 * With NVIDIA GPUs the slots follow nvidia-smi; each sets CUDA_VISIBLE_DEVICES (tfjs-node-gpu, nvidia-smi
 * utilisation) and, for Vulkan, selects the same device by PCI bus through Mesa's device-select layer
 * (DRI_PRIME=pci-… with MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: the process sees that GPU only; the layer ships
 * with mesa-vulkan-drivers and applies to every Vulkan driver, NVIDIA's included). Other GPUs get one slot per
 * hardware adapter, pinned by Dawn's adapter-name filter (DAPPLE_WEBGPU_ADAPTER).
 */

export interface NvidiaGpu {
  index: number;
  name: string;
  /** e.g. 00000000:65:00.0 */
  busId: string | null;
}

export interface WebGpuAdapterEntry {
  backend: string;
  name: string;
}

/** `nvidia-smi --query-gpu=index,name,pci.bus_id --format=csv,noheader` output → GPUs. */
export function parseNvidiaSmi(csv: string): NvidiaGpu[] {
  const gpus: NvidiaGpu[] = [];
  for (const line of csv.split('\n')) {
    const [index, name, busId] = line.split(',').map((s) => s.trim());
    if (!index || !/^\d+$/.test(index) || !name) continue;
    gpus.push({
      index: Number(index),
      name,
      busId: busId && /^[0-9a-f]+:[0-9a-f]+:[0-9a-f]+\.\d$/i.test(busId) ? busId : null,
    });
  }
  return gpus;
}

/** Dawn's "Available adapters:" list (what `create(['adapter=<no such name>'])` reports) → entries. */
export function parseDawnAdapterList(text: string): WebGpuAdapterEntry[] {
  const out: WebGpuAdapterEntry[] = [];
  for (const m of text.matchAll(/\* backend: '([^']*)', name: '([^']*)'/g)) out.push({ backend: m[1]!, name: m[2]! });
  return out;
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|softpipe|software|microsoft basic render/i;
/** Dawn lists a GPU once per API; these are the ones the trainer uses (in this order of preference). */
const NATIVE_BACKENDS = ['vulkan', 'metal', 'd3d12'];

/** Hardware adapters of the native API, one per GPU (a GPU Dawn also lists under OpenGL or D3D11 counts once). */
export function hardwareAdapters(entries: WebGpuAdapterEntry[]): WebGpuAdapterEntry[] {
  const hw = entries.filter((e) => !SOFTWARE.test(e.name));
  for (const backend of NATIVE_BACKENDS) {
    const these = hw.filter((e) => e.backend === backend);
    if (these.length > 0) return these;
  }
  return [];
}

/** PCI bus id as Mesa's device-select layer spells it: 00000000:65:00.0 → pci-0000_65_00_0. */
export function driPrimeTag(busId: string): string {
  const [domain, bus, rest] = busId.split(':') as [string, string, string];
  const [device, fn] = rest.split('.') as [string, string];
  const hex = (s: string, n: number) => s.slice(-n).padStart(n, '0').toLowerCase();
  return `pci-${hex(domain, 4)}_${hex(bus, 2)}_${hex(device, 2)}_${fn}`;
}

/** One slot per GPU from both sources (see the file comment); empty when there is none. */
export function gpuSlots(nvidia: NvidiaGpu[], adapters: WebGpuAdapterEntry[]): ExecutorSlot[] {
  if (nvidia.length > 0) {
    return nvidia.map((g): ExecutorSlot => ({
      id: `gpu${g.index}`,
      gpu: g.index,
      device: g.name,
      ...(g.busId ? { env: { DRI_PRIME: driPrimeTag(g.busId), MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: '1' } } : {}),
    }));
  }
  return hardwareAdapters(adapters).map((a, i) => ({
    id: `gpu${i}`,
    gpu: i,
    device: a.name,
    env: { DAPPLE_WEBGPU_ADAPTER: a.name },
  }));
}

async function nvidiaGpus(): Promise<NvidiaGpu[]> {
  try {
    const { stdout } = await execFileAsync(
      'nvidia-smi',
      ['--query-gpu=index,name,pci.bus_id', '--format=csv,noheader'],
      { timeout: 10_000 },
    );
    return parseNvidiaSmi(stdout);
  } catch {
    return []; // no NVIDIA driver here
  }
}

const PROBE = fileURLToPath(new URL('./webgpu-adapters.mjs', import.meta.url));

/** The adapters Dawn lists here (all APIs, software ones included); empty without the `webgpu` package. */
export async function webgpuAdapters(node = process.execPath): Promise<WebGpuAdapterEntry[]> {
  try {
    const { stdout } = await execFileAsync(node, [PROBE], { timeout: 30_000, env: { ...process.env } });
    return parseDawnAdapterList(stdout);
  } catch {
    return []; // the probe failed (no webgpu package, no Vulkan loader): no WebGPU adapters
  }
}

/** This machine's GPU slots (possibly none). */
export async function detectGpus(): Promise<ExecutorSlot[]> {
  const [nvidia, adapters] = await Promise.all([nvidiaGpus(), webgpuAdapters()]);
  return gpuSlots(nvidia, adapters);
}
