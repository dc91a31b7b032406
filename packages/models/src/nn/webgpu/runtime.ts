/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs';

/**
 * Our WGSL kernels run inside TF.js' webgpu backend: they read and write the GPU buffers the backend keeps for
 * its tensors, and record their dispatches into the backend's own command encoder and compute pass, so they
 * interleave with TF.js' kernels without extra submits or copies. TF.js' WebGPUProgram has one output per
 * program and generates its own bindings; ours bind any number of inputs and outputs, and bake shapes into the
 * shader as constants (one pipeline per layer shape, as TF.js does, and no uniform buffer per dispatch).
 *
 * This relies on the backend's internals as of TF.js 4.22 (tensorMap, uploadToGPU, the pass encoder): checked
 * once by `webgpuInternals`; where they differ the callers keep TF.js' ops.
 */

export interface WebGpuBackendInternals {
  device: GPUDevice;
  tensorMap: { get(id: tf.DataId): { resource: GPUBuffer | null; shape: number[]; dtype: string } | undefined };
  uploadToGPU(id: tf.DataId): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  makeUniforms(u: { type: 'int32' | 'uint32' | 'float32'; data: number[] }[]): GPUBufferBinding;
  commandQueueOwnedIds: WeakSet<tf.DataId>;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  disposeData(id: tf.DataId, force?: boolean): boolean;
}

/** The backend methods our kernels call: checked here at run time, and against each TF.js bump by tfjs-internals.test.ts. */
export const WEBGPU_BACKEND_METHODS = [
  'uploadToGPU',
  'makeTensorInfo',
  'makeUniforms',
  'ensureCommandEncoderReady',
  'endComputePassEncoder',
  'submitQueue',
  'disposeData',
] as const;

/** The active webgpu backend's internals, or null (another backend, or a TF.js whose internals differ). */
export function webgpuInternals(backend: unknown = tf.getBackend() === 'webgpu' ? tf.backend() : null) {
  const b = backend as Partial<WebGpuBackendInternals> | null;
  if (!b || !b.device || !b.tensorMap || !(b.commandQueueOwnedIds instanceof WeakSet)) return null;
  for (const k of WEBGPU_BACKEND_METHODS) if (typeof b[k] !== 'function') return null;
  return b as WebGpuBackendInternals;
}

/** What the device offers our kernels. */
export interface DeviceCaps {
  f16: boolean;
  /** `subgroups` plus WGSL's subgroup_id builtin (reductions need each subgroup's index). */
  subgroups: boolean;
  maxStorageBuffers: number;
  maxWorkgroupStorage: number;
}

const capsCache = new WeakMap<GPUDevice, DeviceCaps>();

/** Forces the plain f32 / shared-memory paths (tests run both on an adapter that offers more). */
const forced: { f16: boolean | null; subgroups: boolean | null } = { f16: null, subgroups: null };

export function forceKernelPaths(p: { f16?: boolean | null; subgroups?: boolean | null }): void {
  if (p.f16 !== undefined) forced.f16 = p.f16;
  if (p.subgroups !== undefined) forced.subgroups = p.subgroups;
}

export function deviceCaps(device: GPUDevice): DeviceCaps {
  let caps = capsCache.get(device);
  if (!caps) {
    const wgsl = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu?.wgslLanguageFeatures;
    caps = {
      f16: device.features.has('shader-f16'),
      subgroups: device.features.has('subgroups') && (wgsl?.has('subgroup_id') ?? false),
      maxStorageBuffers: device.limits.maxStorageBuffersPerShaderStage,
      maxWorkgroupStorage: device.limits.maxComputeWorkgroupStorageSize,
    };
    capsCache.set(device, caps);
  }
  return {
    ...caps,
    f16: caps.f16 && (forced.f16 ?? true),
    subgroups: caps.subgroups && (forced.subgroups ?? true),
  };
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();
let pipelinesMade = 0;

/**
 * Pipelines our kernels have created so far in this process (cache misses of `pipelineFor`). Each one is a shader
 * compile, which on a software adapter costs seconds on a cold Mesa cache: tests check that repeated work (the same
 * shapes, the same precision) creates none.
 */
export function pipelinesCreated(): number {
  return pipelinesMade;
}

function pipelineFor(device: GPUDevice, label: string, code: string): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map<string, GPUComputePipeline>()));
  let p = cache.get(code);
  if (!p) {
    const module = device.createShaderModule({ code, label });
    p = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label });
    cache.set(code, p);
    pipelinesMade++;
  }
  return p;
}

/** The GPU buffer holding a tensor's data (uploaded first if it still lives on the CPU). */
export function bufferOf(b: WebGpuBackendInternals, t: tf.TensorInfo): GPUBuffer {
  b.uploadToGPU(t.dataId);
  const r = b.tensorMap.get(t.dataId)?.resource;
  if (!r) throw new Error('webgpu kernel: tensor has no GPU buffer');
  return r;
}

export type Uniform = { type: 'int32' | 'uint32' | 'float32'; value: number };

export interface Dispatch {
  label: string;
  /** A complete WGSL module with entry point `main`; bindings 0..n−1 are `buffers` in order, then the uniforms. */
  code: string;
  buffers: tf.TensorInfo[];
  /** Scalars of a uniform struct at binding `buffers.length`, in declaration order (f32/i32/u32 only). */
  uniforms?: Uniform[];
  workgroups: [number, number?, number?];
}

/** Submit after this many dispatches in a pass, as TF.js does (WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE). */
function submitBatchSize(): number {
  return tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE');
}

let dispatchLog: string[] | null = null;

/** Starts (or with false stops) recording the label of every dispatch of ours; returns what was recorded. */
export function logDispatches(on: boolean): string[] {
  const log = dispatchLog ?? [];
  dispatchLog = on ? [] : null;
  return log;
}

/** Records one dispatch into the backend's current compute pass (what TF.js' recordAndSubmit does for its own). */
export function dispatch(b: WebGpuBackendInternals, d: Dispatch): void {
  dispatchLog?.push(d.label);
  const [x, y = 1, z = 1] = d.workgroups;
  if (x === 0 || y === 0 || z === 0) return;
  const max = b.device.limits.maxComputeWorkgroupsPerDimension;
  if (x > max || y > max || z > max) throw new RangeError(`${d.label}: ${x}×${y}×${z} workgroups exceed ${max}`);
  const pipeline = pipelineFor(b.device, d.label, d.code);
  const entries: GPUBindGroupEntry[] = d.buffers.map((t, i) => ({ binding: i, resource: { buffer: bufferOf(b, t) } }));
  if (d.uniforms && d.uniforms.length > 0) {
    entries.push({
      binding: d.buffers.length,
      resource: b.makeUniforms(d.uniforms.map((u) => ({ type: u.type, data: [u.value] }))),
    });
  }
  for (const t of d.buffers) b.commandQueueOwnedIds.add(t.dataId);
  const bindGroup = b.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  b.ensureCommandEncoderReady();
  if (!b.computePassEncoder) b.computePassEncoder = b.commandEncoder!.beginComputePass({});
  const pass = b.computePassEncoder;
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(x, y, z);
  b.dispatchCountInPass += 1;
  if (b.dispatchCountInPass >= submitBatchSize()) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
}

/** Copies `size` floats between two tensors' buffers (no dispatch: a copy command in the same encoder). */
export function copyFloats(
  b: WebGpuBackendInternals,
  src: tf.TensorInfo,
  srcOffset: number,
  dst: tf.TensorInfo,
  dstOffset: number,
  size: number,
): void {
  if (size === 0) return;
  const s = bufferOf(b, src);
  const t = bufferOf(b, dst);
  b.commandQueueOwnedIds.add(src.dataId);
  b.commandQueueOwnedIds.add(dst.dataId);
  b.ensureCommandEncoderReady();
  b.endComputePassEncoder();
  b.commandEncoder!.copyBufferToBuffer(s, srcOffset * 4, t, dstOffset * 4, size * 4);
}

/** A new float32 output tensor of the backend (its GPU buffer is allocated on first use). */
export function output(b: WebGpuBackendInternals, shape: number[], dtype: tf.DataType = 'float32'): tf.TensorInfo {
  return b.makeTensorInfo(shape, dtype);
}

/** The WGSL binding declarations for a kernel's buffers, in order, then its uniform struct (if any). */
export function bindings(
  buffers: { name: string; type?: string; access?: 'read' | 'read_write' }[],
  uniforms: { name: string; type: 'f32' | 'i32' | 'u32' }[] = [],
): string {
  const lines = buffers.map(
    (v, i) => `@group(0) @binding(${i}) var<storage, ${v.access ?? 'read'}> ${v.name}: array<${v.type ?? 'f32'}>;`,
  );
  if (uniforms.length > 0) {
    lines.push(`struct Params { ${uniforms.map((u) => `${u.name}: ${u.type},`).join(' ')} }`);
    lines.push(`@group(0) @binding(${buffers.length}) var<uniform> params: Params;`);
  }
  return lines.join('\n');
}

/** WGSL for a float literal (always with a decimal point or exponent). */
export function f32(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
  const s = String(Math.fround(v));
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Splits a 1-D workgroup count over x and y when it exceeds the per-dimension limit. */
export function grid(count: number, max = 65535): [number, number] {
  if (count <= max) return [count, 1];
  const y = Math.ceil(count / max);
  return [Math.ceil(count / y), y];
}

/**
 * A workgroup-wide sum helper in WGSL for `size` threads: over subgroups where the device has them (one
 * subgroupAdd, then the partial sums of the subgroups in a fixed order, so the result is deterministic), else a
 * shared-memory tree. `wgSum(v, lid, sid, nsg)` must be called from uniform control flow by every thread.
 */
export function workgroupSum(size: number, subgroups: boolean): string {
  if (subgroups) {
    return `
var<workgroup> red_: array<f32, ${size}>;
fn wgSum(v: f32, lid: u32, sid: u32, nsg: u32) -> f32 {
  let s = subgroupAdd(v);
  workgroupBarrier();
  if (subgroupElect()) { red_[sid] = s; }
  workgroupBarrier();
  var t = 0.0;
  for (var i = 0u; i < nsg; i++) { t += red_[i]; }
  return t;
}`;
  }
  return `
var<workgroup> red_: array<f32, ${size}>;
fn wgSum(v: f32, lid: u32, sid: u32, nsg: u32) -> f32 {
  workgroupBarrier();
  red_[lid] = v;
  workgroupBarrier();
  for (var s = ${size / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { red_[lid] += red_[lid + s]; }
    workgroupBarrier();
  }
  return red_[0];
}`;
}

/** `enable` directives and the builtins wgSum needs, for the entry point's parameter list. */
export function subgroupHeader(subgroups: boolean): { enable: string; params: string; args: string } {
  return subgroups
    ? {
        enable: 'enable subgroups;',
        params: ', @builtin(subgroup_id) sid_: u32, @builtin(num_subgroups) nsg_: u32',
        args: 'sid_, nsg_',
      }
    : { enable: '', params: '', args: '0u, 0u' };
}
