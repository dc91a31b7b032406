/// <reference types="@webgpu/types" />

/**
 * Counts what a device is asked to do: compute dispatches and command-buffer submits. Both are fixed per
 * training step for a given model and batch, whatever the machine, so they are the machine-independent measure
 * of how fused a step is (a real GPU pays a few µs of launch and sync per dispatch and tens per submit; a UNet
 * step of thousands of small dispatches is launch-bound). Counted by wrapping the device's queue and encoders,
 * so it sees TF.js' own kernels and ours alike.
 */
export interface GpuWork {
  dispatches: number;
  submits: number;
  /** Buffer-to-buffer copies recorded (TF.js uploads and readbacks). */
  copies: number;
  /** queue.writeBuffer calls (TF.js writes one uniform buffer per dispatch). */
  writes: number;
}

export interface GpuWorkCounter {
  read(): GpuWork;
  /** Counts since the last reset (or since wrapping). */
  reset(): void;
  /** Puts the device's original methods back. */
  dispose(): void;
}

type Counts = { -readonly [K in keyof GpuWork]: GpuWork[K] };

export function countGpuWork(device: GPUDevice): GpuWorkCounter {
  const counts: Counts = { dispatches: 0, submits: 0, copies: 0, writes: 0 };
  const queue = device.queue;
  /* eslint-disable @typescript-eslint/unbound-method -- the originals are called on their own object (.call/.apply)
     and put back by dispose() */
  const submit = queue.submit;
  const writeBuffer = queue.writeBuffer;
  const createCommandEncoder = device.createCommandEncoder;
  queue.submit = function (this: GPUQueue, buffers: Iterable<GPUCommandBuffer>) {
    counts.submits += 1;
    return submit.call(this, buffers);
  };
  queue.writeBuffer = function (this: GPUQueue, ...args: Parameters<GPUQueue['writeBuffer']>) {
    counts.writes += 1;
    return writeBuffer.apply(this, args);
  };
  device.createCommandEncoder = function (this: GPUDevice, desc?: GPUCommandEncoderDescriptor) {
    const encoder = createCommandEncoder.call(this, desc);
    const beginComputePass = encoder.beginComputePass;
    const copyBufferToBuffer = encoder.copyBufferToBuffer;
    encoder.copyBufferToBuffer = function (this: GPUCommandEncoder, ...args: unknown[]) {
      counts.copies += 1;
      return (copyBufferToBuffer as (...a: unknown[]) => void).apply(this, args);
    } as GPUCommandEncoder['copyBufferToBuffer'];
    encoder.beginComputePass = function (this: GPUCommandEncoder, d?: GPUComputePassDescriptor) {
      const pass = beginComputePass.call(this, d);
      const dispatch = pass.dispatchWorkgroups;
      const dispatchIndirect = pass.dispatchWorkgroupsIndirect;
      pass.dispatchWorkgroups = function (this: GPUComputePassEncoder, x: number, y?: number, z?: number) {
        counts.dispatches += 1;
        return dispatch.call(this, x, y, z);
      };
      pass.dispatchWorkgroupsIndirect = function (this: GPUComputePassEncoder, b: GPUBuffer, o: number) {
        counts.dispatches += 1;
        return dispatchIndirect.call(this, b, o);
      };
      return pass;
    };
    return encoder;
  };
  /* eslint-enable @typescript-eslint/unbound-method */
  return {
    read: () => ({ ...counts }),
    reset() {
      counts.dispatches = counts.submits = counts.copies = counts.writes = 0;
    },
    dispose() {
      queue.submit = submit;
      queue.writeBuffer = writeBuffer;
      device.createCommandEncoder = createCommandEncoder;
    },
  };
}
